using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace PfPpo.Training;

/// <summary>
/// Writes training metrics twice: one JSON object per line to <c>metrics.jsonl</c> (machine-readable, appended, flushed
/// per record so a crash loses nothing already logged) and TensorBoard event files under <c>tensorboard/</c>.
/// A run resumed from step S keeps the records of steps up to S only and rebuilds the TensorBoard events from them, so
/// every step appears exactly once however often the run was interrupted.
/// <para>By default a record is flat (<c>{"step": 10, "train/loss": 0.5}</c>). With <c>nestGroups</c> a name
/// <c>group/name</c> is written inside an object (<c>{"iteration": 3, "seconds": {"generate": 1.2}}</c>), as RL's
/// per-iteration records are; TensorBoard gets <c>group/name</c> either way.</para>
/// </summary>
public sealed class MetricsLogger : IDisposable
{
    private readonly StreamWriter _jsonl;
    private readonly SummaryWriter _tensorboard;
    private readonly string _stepKey;
    private readonly bool _nestGroups;

    /// <param name="resumedAtStep">null for a fresh run (earlier records are dropped); else the step resumed from.</param>
    /// <param name="stepKey">The record's step field (<c>step</c>; <c>iteration</c> for RL).</param>
    /// <param name="nestGroups">Write <c>group/name</c> metrics as nested objects (see the class remarks).</param>
    public MetricsLogger(string directory, int? resumedAtStep, string stepKey = "step", bool nestGroups = false)
    {
        _stepKey = stepKey;
        _nestGroups = nestGroups;
        Directory.CreateDirectory(directory);
        JsonlPath = Path.Combine(directory, "metrics.jsonl");
        string tensorboardDir = Path.Combine(directory, "tensorboard");
        List<string> kept = resumedAtStep is int step && File.Exists(JsonlPath)
            ? File.ReadLines(JsonlPath).Where(line => StepOf(line, stepKey) is int s && s <= step).ToList()
            : [];
        if (Directory.Exists(tensorboardDir))
        {
            Directory.Delete(tensorboardDir, recursive: true);
        }
        IO.AtomicFile.WriteAllText(JsonlPath, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        _jsonl = new StreamWriter(new FileStream(JsonlPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        _tensorboard = SummaryWriter(tensorboardDir, createRunName: false);
        foreach (string line in kept)
        {
            using JsonDocument record = JsonDocument.Parse(line);
            int at = record.RootElement.GetProperty(stepKey).GetInt32();
            foreach (JsonProperty property in record.RootElement.EnumerateObject())
            {
                if (property.Name == stepKey)
                {
                    continue;
                }
                if (property.Value.ValueKind == JsonValueKind.Number)
                {
                    _tensorboard.add_scalar(property.Name, (float)property.Value.GetDouble(), at);
                }
                else if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (JsonProperty inner in property.Value.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number))
                    {
                        _tensorboard.add_scalar(property.Name + "/" + inner.Name, (float)inner.Value.GetDouble(), at);
                    }
                }
            }
        }
    }

    private static int? StepOf(string line, string stepKey)
    {
        try
        {
            using JsonDocument record = JsonDocument.Parse(line);
            return record.RootElement.TryGetProperty(stepKey, out JsonElement step) && step.TryGetInt32(out int value) ? value : null;
        }
        catch (JsonException)
        {
            return null; // a line cut by a kill: dropped
        }
    }

    public string JsonlPath { get; }

    /// <summary>Logs <paramref name="values"/> at <paramref name="step"/>; names like <c>train/loss</c> group in TensorBoard.</summary>
    public void Log(int step, IReadOnlyDictionary<string, double> values)
    {
        var record = new SortedDictionary<string, object>(StringComparer.Ordinal) { [_stepKey] = step };
        foreach ((string name, double value) in values)
        {
            object written = double.IsFinite(value) ? value : value.ToString(CultureInfo.InvariantCulture);
            int slash = name.IndexOf('/', StringComparison.Ordinal);
            if (_nestGroups && slash > 0)
            {
                string group = name[..slash];
                if (!record.TryGetValue(group, out object? inner) || inner is not SortedDictionary<string, object> nested)
                {
                    record[group] = nested = new SortedDictionary<string, object>(StringComparer.Ordinal);
                }
                nested[name[(slash + 1)..]] = written;
            }
            else
            {
                record[name] = written;
            }
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
