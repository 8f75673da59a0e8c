using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace PfPpo.Training;

/// <summary>
/// Writes training metrics twice: one JSON object per line to <c>metrics.jsonl</c> (machine-readable, appended, flushed
/// per record so a crash loses nothing already logged) and TensorBoard event files under <c>tensorboard/</c>.
/// </summary>
public sealed class MetricsLogger : IDisposable
{
    private readonly StreamWriter _jsonl;
    private readonly SummaryWriter _tensorboard;

    public MetricsLogger(string directory, bool append)
    {
        Directory.CreateDirectory(directory);
        JsonlPath = Path.Combine(directory, "metrics.jsonl");
        _jsonl = new StreamWriter(new FileStream(JsonlPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read),
            new UTF8Encoding(false));
        _tensorboard = SummaryWriter(Path.Combine(directory, "tensorboard"), createRunName: false);
    }

    public string JsonlPath { get; }

    /// <summary>Logs <paramref name="values"/> at <paramref name="step"/>; names like <c>train/loss</c> group in TensorBoard.</summary>
    public void Log(int step, IReadOnlyDictionary<string, double> values)
    {
        var record = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["step"] = step };
        foreach ((string name, double value) in values)
        {
            record[name] = double.IsFinite(value) ? value : value.ToString(CultureInfo.InvariantCulture);
            _tensorboard.add_scalar(name, (float)value, step);
        }
        _jsonl.WriteLine(JsonSerializer.Serialize(record));
        _jsonl.Flush();
    }

    public void Dispose()
    {
        _jsonl.Dispose(); // the TensorBoard writer appends and closes its event file on every record
    }
}
