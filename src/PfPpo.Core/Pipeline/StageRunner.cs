using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.IO;

namespace PfPpo.Pipeline;

/// <summary>What a finished stage left in its folder's <c>stage.json</c>, for display (the typed result is <see cref="StageOutcome{TResult}"/>).</summary>
/// <param name="Key">Hash of the stage's settings and of every upstream stage's key: equal keys mean equal inputs.</param>
/// <param name="Result">The stage's result as written (snake_case JSON).</param>
/// <param name="Reused">True when this run found the stage already done with the same key and skipped it.</param>
public sealed record StageRecord(string Stage, string Key, double Seconds, JsonObject Result, bool Reused);

/// <summary>A finished stage: its typed result and its record.</summary>
public sealed record StageOutcome<TResult>(TResult Result, StageRecord Record)
{
    public string Key => Record.Key;
}

/// <summary>What a stage's body gets: its folder, whether an interrupted run with the same key can resume there, progress, cancellation.</summary>
public sealed record StageContext(string Directory, bool Resumable, IProgress<(double Fraction, string Message)> Progress,
    CancellationToken Cancellation);

/// <summary>Reports stage starts, progress and ends (the CLI draws them).</summary>
public interface IStageObserver
{
    void Started(string stage);
    void Progress(string stage, double fraction, string message);
    void Finished(StageRecord record);
}

/// <summary>
/// Runs pipeline stages, each in its own folder under a root. A stage whose folder holds a <c>stage.json</c> with the
/// same key (same settings, same upstream) is not run again, so any stage can be rerun alone by deleting its folder or
/// changing its settings; everything downstream of a changed stage reruns because its key changes with it.
/// </summary>
public sealed class StageRunner(string root, bool force, IStageObserver? observer = null)
{
    public const string RecordFile = "stage.json";
    private const string KeyFile = ".key";

    public string Root { get; } = root;

    public string StageDirectory(string stage) => Path.Combine(Root, stage);

    /// <summary>A short stable hash of the settings (serialised as JSON) and the upstream keys.</summary>
    public static string Key(object settings, params string[] upstream)
    {
        string text = JsonSerializer.Serialize(settings, settings.GetType()) + "|" + string.Join("|", upstream);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
    }

    /// <summary>Result records are written and read back as snake_case JSON.</summary>
    public static readonly JsonSerializerOptions ResultJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Runs <paramref name="run"/> unless the stage is already done with <paramref name="key"/>, in which case its saved
    /// result is read back.
    /// </summary>
    public async Task<StageOutcome<TResult>> RunAsync<TResult>(string stage, string key, Func<StageContext, Task<TResult>> run,
        CancellationToken cancellation = default)
    {
        string dir = StageDirectory(stage);
        string recordPath = Path.Combine(dir, RecordFile);
        if (!force && File.Exists(recordPath))
        {
            StageRecord? saved = Read(recordPath);
            TResult? typed = saved is null || saved.Key != key ? default : Typed<TResult>(saved.Result);
            if (saved is not null && typed is not null)
            {
                var reused = saved with { Reused = true };
                observer?.Started(stage);
                observer?.Finished(reused);
                return new StageOutcome<TResult>(typed, reused);
            }
        }
        bool resumable = !force && File.Exists(Path.Combine(dir, KeyFile)) && File.ReadAllText(Path.Combine(dir, KeyFile)) == key;
        if (!resumable && Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, KeyFile), key);
        observer?.Started(stage);
        var clock = Stopwatch.StartNew();
        var progress = new StageProgress(stage, observer);
        TResult typedResult = await run(new StageContext(dir, resumable, progress, cancellation));
        JsonObject result = JsonSerializer.SerializeToNode(typedResult, ResultJson)!.AsObject();
        var record = new StageRecord(stage, key, clock.Elapsed.TotalSeconds, result, Reused: false);
        var json = new JsonObject
        {
            ["stage"] = stage,
            ["key"] = key,
            ["seconds"] = Math.Round(record.Seconds, 3),
            ["result"] = result.DeepClone(),
        };
        AtomicFile.WriteAllText(recordPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        observer?.Finished(record);
        return new StageOutcome<TResult>(typedResult, record);
    }

    private static TResult? Typed<TResult>(JsonObject result)
    {
        try
        {
            return result.Deserialize<TResult>(ResultJson);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return default; // a record of an older layout is treated as absent: the stage runs again
        }
    }

    private static StageRecord? Read(string path)
    {
        try
        {
            JsonObject json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            return new StageRecord(json["stage"]!.GetValue<string>(), json["key"]!.GetValue<string>(),
                json["seconds"]!.GetValue<double>(), json["result"]!.AsObject().DeepClone().AsObject(), Reused: false);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            return null; // an unreadable record is treated as absent: the stage runs again
        }
    }

    private sealed class StageProgress(string stage, IStageObserver? observer) : IProgress<(double Fraction, string Message)>
    {
        public void Report((double Fraction, string Message) value) => observer?.Progress(stage, Math.Clamp(value.Fraction, 0, 1), value.Message);
    }
}
