using System.Text.Json;
using System.Text.Json.Serialization;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Rollouts;

/// <summary>How a round of an online baseline (RAFT, BOND, iterative DPO) samples its responses.</summary>
/// <param name="Seed">The sampling seed of this round (derive it from the run's seed and the round).</param>
public sealed record RoundSampling(int SamplesPerPrompt, double Temperature, double TopP, int MaxNewTokens, int MicroBatchSize, long Seed);

/// <summary>
/// The pieces the round-based baselines share: the seeded prompt draw of a round, sampling N responses per prompt from a
/// checkpoint (<see cref="RolloutCollector"/>, scored in the sandbox), the run folder's fingerprint and resume rules, the
/// copy of the last round's model to <c>final/</c> and the summary file.
/// </summary>
public static class RoundRuns
{
    public const string ConfigFile = "run_config.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The first <paramref name="count"/> problems of a shuffle seeded by <paramref name="seed"/> (null: all, shuffled).</summary>
    public static Problem[] Prompts(IReadOnlyList<Problem> problems, int seed, int? count)
    {
        Problem[] chosen = [.. problems];
        new Random(seed).Shuffle(chosen);
        return count is int k ? chosen.Take(k).ToArray() : chosen;
    }

    /// <summary>
    /// Samples <see cref="RoundSampling.SamplesPerPrompt"/> responses of each problem's eval prompt from the checkpoint in
    /// <paramref name="policyDir"/> (its EOS ids end them) and scores them in the sandbox. Returns the samples (group =
    /// index into <paramref name="problems"/>) and the prompts they continue.
    /// </summary>
    public static async Task<(IReadOnlyList<ScoredSample> Samples, RolloutPrompt[] Prompts)> SampleAsync(string policyDir, IReadOnlyList<Problem> problems,
        RoundSampling sampling, Scorer scorer, Device device, ScalarType dtype, IProgress<RolloutProgress>? progress, CancellationToken cancellation)
    {
        using CausalLM model = HfCheckpoint.LoadCausalLM(policyDir, device, dtype);
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(policyDir, HfCheckpoint.TokenizerFile));
        RolloutPrompt[] prompts = problems.Select(p => RolloutPrompt.For(p, tokenizer)).ToArray();
        var rolloutOptions = new RolloutOptions
        {
            Sampling = new RolloutOptions().Sampling with
            {
                NumSamples = sampling.SamplesPerPrompt, Temperature = sampling.Temperature, TopP = sampling.TopP, MaxNewTokens = sampling.MaxNewTokens,
                Seed = sampling.Seed, MicroBatchSize = sampling.MicroBatchSize, EosTokenIds = HfCheckpoint.LoadEosTokenIds(policyDir),
            },
        };
        RolloutBatch batch = await new RolloutCollector(model, tokenizer, scorer).CollectAsync(prompts, rolloutOptions, progress, cancellation);
        return (ScoredSamples.FromRollout(batch), prompts);
    }

    /// <summary>
    /// Applies the resume mode to a round-based run folder: a fresh run refuses a folder holding another run's rounds
    /// (folders matching <paramref name="roundPattern"/>) unless forced, which removes them; a resume is refused when
    /// settings or inputs differ from <paramref name="runFile"/>'s fingerprint, naming what differs. Writes the fingerprint.
    /// </summary>
    /// <param name="what">Names the run in messages ("RAFT run's rounds").</param>
    public static void OpenRun(string outDir, string runFile, string roundPattern, string what, RunFingerprint fingerprint, ResumeMode resume, bool force)
    {
        string runPath = Path.Combine(outDir, runFile);
        string[] roundDirs = Directory.Exists(outDir) ? Directory.GetDirectories(outDir, roundPattern) : [];
        RunFingerprint? saved = File.Exists(runPath) ? new RunFingerprint(JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(runPath))!) : null;
        bool hasRun = saved is not null || roundDirs.Length > 0;
        bool continuing = resume == ResumeMode.Resume || (resume == ResumeMode.ResumeIfPresent && hasRun);
        if (resume == ResumeMode.Resume && !hasRun)
        {
            throw new RunFolderException($"{outDir}: nothing to resume (no {runFile}).");
        }
        if (continuing && saved is not null)
        {
            IReadOnlyList<string> differences = fingerprint.Differences(saved);
            if (differences.Count > 0)
            {
                throw new RunFolderException($"{outDir}: cannot resume a run with other settings or inputs:\n  " + string.Join("\n  ", differences) +
                    "\nUse another --out, or --force to start over.");
            }
        }
        if (!continuing && hasRun)
        {
            if (!force)
            {
                throw new RunFolderException($"{outDir} holds another {what}; continue it with --resume, or start over with --force.");
            }
            foreach (string dir in roundDirs)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(runPath, JsonSerializer.Serialize(fingerprint.Items, Json) + "\n");
    }

    /// <summary>The run's <c>run_config.json</c> (as PPO writes it): its inputs, every option, the dtype and the device.</summary>
    public static void WriteConfig(string outDir, object inputs, object options, ScalarType dtype, Device device)
    {
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["inputs"] = JsonSerializer.SerializeToNode(inputs, inputs.GetType(), Json),
            ["options"] = JsonSerializer.SerializeToNode(options, options.GetType(), Json),
            ["dtype"] = dtype.ToString(),
            ["device"] = device.ToString(),
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, ConfigFile), json.ToJsonString(Json) + "\n");
    }

    /// <summary>Copies a checkpoint's files (not its metrics) into <paramref name="to"/>: the last round's model as <c>final/</c>.</summary>
    public static void CopyModel(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from).Where(f => Path.GetFileName(f) != "metrics.jsonl"))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    /// <summary>Writes a summary (sorted keys; NaN allowed as a named literal) atomically.</summary>
    public static void WriteSummary(string path, IReadOnlyDictionary<string, object?> summary) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new SortedDictionary<string, object?>(summary.ToDictionary(), StringComparer.Ordinal),
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }) + "\n");

    /// <summary>Reads a round's record (its <c>round.json</c>), or null when the round has not finished.</summary>
    public static T? ReadRecord<T>(string path) where T : class =>
        File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) : null;

    /// <summary>Writes a round's record last, atomically: its presence marks the round complete.</summary>
    public static void WriteRecord<T>(string path, T record) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(record, Json) + "\n");
}
