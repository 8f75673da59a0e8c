using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PfPpo.Training;

/// <summary>How a trainer treats checkpoints already in its output folder.</summary>
public enum ResumeMode
{
    /// <summary>Start from step 0; a folder that holds another run's checkpoints is refused (unless forced, which removes them).</summary>
    Fresh,

    /// <summary>Continue from the newest intact checkpoint; refused when there is none.</summary>
    Resume,

    /// <summary>Continue when an intact checkpoint exists, else start fresh (pipelines that rerun a stage).</summary>
    ResumeIfPresent,
}

/// <summary>A checkpoint that a trainer resumed from: its step and the trainer's own typed state.</summary>
public sealed record ResumedCheckpoint<TState>(int Step, TState State, string Directory);

/// <summary>
/// A run's resumable checkpoints: <c>checkpoints/step-N/</c> folders, each holding every trained module (a Hugging Face
/// checkpoint plus its optimizer state, in a folder named for the module), the trainer's typed state and the run's
/// fingerprint, and a manifest of file sizes written last. A folder is written under a temporary name and renamed into
/// place, so a kill leaves either the whole checkpoint or none; the newest <c>keep</c> are kept.
/// </summary>
public sealed class CheckpointStore
{
    public const string FolderName = "checkpoints";
    private const string StateFile = "trainer_state.json";
    private const string ManifestFile = "manifest.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly ResumeMode mode;
    private readonly bool force;
    private readonly int keep;

    public CheckpointStore(string runDirectory, int keep, ResumeMode mode, bool force = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1, nameof(keep));
        Root = Path.Combine(runDirectory, FolderName);
        this.keep = keep;
        this.mode = mode;
        this.force = force;
    }

    /// <summary>The <c>checkpoints</c> folder.</summary>
    public string Root { get; }

    /// <summary>Complete checkpoint folders (with a manifest), oldest first.</summary>
    public IReadOnlyList<(int Step, string Directory)> Checkpoints() =>
        !Directory.Exists(Root)
            ? []
            : Directory.GetDirectories(Root, "step-*")
                .Select(d => (Step: ParseStep(d), Directory: d))
                .Where(c => c.Step >= 0 && File.Exists(Path.Combine(c.Directory, ManifestFile)))
                .OrderBy(c => c.Step)
                .ToArray();

    /// <summary>True when the folder holds at least one complete checkpoint.</summary>
    public bool HasCheckpoints => Checkpoints().Count > 0;

    /// <summary>
    /// Applies the resume mode: returns the checkpoint resumed from (with every model's weights and optimizer state
    /// restored), or null for a fresh start. A checkpoint that fails its size check or cannot be read is passed over for
    /// the next older one, and <paramref name="warn"/> says so. A resume whose fingerprint differs is refused, naming
    /// what differs. Leftover temporary folders of a killed save are removed.
    /// </summary>
    public ResumedCheckpoint<TState>? Open<TState>(RunFingerprint fingerprint, IReadOnlyList<TrainableModel> models, Action<string>? warn = null)
    {
        RemoveTemporaries();
        IReadOnlyList<(int Step, string Directory)> existing = Checkpoints();
        if (mode == ResumeMode.Fresh)
        {
            if (existing.Count > 0)
            {
                if (!force)
                {
                    throw new RunFolderException(
                        $"{Root} holds checkpoints of an earlier run (newest: step {existing[^1].Step}); pass --resume to continue it, or --force to delete them and start over.");
                }
                Directory.Delete(Root, recursive: true);
            }
            return null;
        }
        if (existing.Count == 0)
        {
            if (mode == ResumeMode.Resume)
            {
                throw new RunFolderException($"{Root}: --resume given, but there is no complete checkpoint to resume from.");
            }
            return null;
        }
        var failures = new List<string>();
        foreach ((int step, string dir) in existing.Reverse())
        {
            StoredState<TState> stored;
            try
            {
                VerifyManifest(dir);
                stored = ReadState<TState>(dir);
            }
            catch (InvalidDataException e)
            {
                failures.Add(e.Message);
                warn?.Invoke($"checkpoint step {step} is damaged ({e.Message}); trying the previous one.");
                continue;
            }
            IReadOnlyList<string> differences = fingerprint.Differences(new RunFingerprint(stored.Fingerprint));
            if (differences.Count > 0)
            {
                throw new RunFolderException(
                    $"{dir}: this run's checkpoint was made with other settings or inputs; resume with the same ones, or start over with --force. What differs:\n  " +
                    string.Join("\n  ", differences));
            }
            foreach (TrainableModel model in models)
            {
                model.LoadState(Path.Combine(dir, model.Name));
            }
            if (failures.Count > 0)
            {
                warn?.Invoke($"resumed from step {step}, the newest intact checkpoint.");
            }
            return new ResumedCheckpoint<TState>(stored.Step, stored.State, dir);
        }
        throw new InvalidDataException($"{Root}: no intact checkpoint to resume from:\n  " + string.Join("\n  ", failures));
    }

    /// <summary>Saves a checkpoint after <paramref name="step"/> optimizer steps; returns its folder.</summary>
    /// <param name="extra">Writes any further files the trainer needs into the (temporary) checkpoint folder.</param>
    public string Save<TState>(int step, TState state, RunFingerprint fingerprint, IReadOnlyList<TrainableModel> models, Action<string>? extra = null)
    {
        Directory.CreateDirectory(Root);
        string final = Path.Combine(Root, string.Create(CultureInfo.InvariantCulture, $"step-{step}"));
        string temp = Path.Combine(Root, string.Create(CultureInfo.InvariantCulture, $".step-{step}.tmp"));
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }
        Directory.CreateDirectory(temp);
        foreach (TrainableModel model in models)
        {
            string modelDir = Path.Combine(temp, model.Name);
            Directory.CreateDirectory(modelDir);
            model.SaveState(modelDir);
        }
        extra?.Invoke(temp);
        File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(new StoredState<TState>(step, state, fingerprint.Items), Json));
        var sizes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories))
        {
            sizes[Path.GetRelativePath(temp, file).Replace('\\', '/')] = new FileInfo(file).Length;
        }
        File.WriteAllText(Path.Combine(temp, ManifestFile), JsonSerializer.Serialize(sizes, Json));
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }
        Directory.Move(temp, final);
        foreach ((int _, string old) in Checkpoints().SkipLast(keep))
        {
            Directory.Delete(old, recursive: true);
        }
        return final;
    }

    private void RemoveTemporaries()
    {
        if (Directory.Exists(Root))
        {
            foreach (string temp in Directory.GetDirectories(Root, ".step-*.tmp"))
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }

    private static int ParseStep(string dir) =>
        int.TryParse(Path.GetFileName(dir).AsSpan("step-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int step) ? step : -1;

    private static void VerifyManifest(string dir)
    {
        string path = Path.Combine(dir, ManifestFile);
        SortedDictionary<string, long> sizes;
        try
        {
            sizes = JsonSerializer.Deserialize<SortedDictionary<string, long>>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty manifest.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable manifest ({e.Message}).", e);
        }
        foreach ((string file, long size) in sizes)
        {
            string full = Path.Combine(dir, file);
            long actual = File.Exists(full) ? new FileInfo(full).Length : -1;
            if (actual != size)
            {
                throw new InvalidDataException(actual < 0
                    ? $"{full}: missing (the manifest lists {size} bytes)"
                    : $"{full}: {actual} bytes, the manifest says {size}");
            }
        }
    }

    private static StoredState<TState> ReadState<TState>(string dir)
    {
        string path = Path.Combine(dir, StateFile);
        try
        {
            return JsonSerializer.Deserialize<StoredState<TState>>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty trainer state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable trainer state ({e.Message}).", e);
        }
    }

    private sealed record StoredState<TState>(
        [property: JsonPropertyName("step")] int Step,
        [property: JsonPropertyName("state")] TState State,
        [property: JsonPropertyName("fingerprint")] IReadOnlyDictionary<string, string> Fingerprint);
}

/// <summary>
/// A run folder cannot be used as asked (another run's checkpoints in a fresh run, nothing to resume, a resume with other
/// settings or inputs). A user error: the CLI prints it without a stack trace (it is an <see cref="IOException"/>).
/// </summary>
public sealed class RunFolderException(string message) : IOException(message);
