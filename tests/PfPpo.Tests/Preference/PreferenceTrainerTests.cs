using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Preference;
using PfPpo.Rewards;
using PfPpo.Tests.Cli;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Preference;

public class PreferenceTrainerTests
{
    /// <summary>40 prompts; the chosen response returns, the rejected one raises: separable, as in the reward-model tests.</summary>
    internal static (string PolicyDir, string PairsPath) Setup(string root)
    {
        var pairs = Enumerable.Range(0, 40).Select(i => new PreferencePair($"t/{i}", $"def f{i}(x):\n",
            $"    return x + {i % 7}\n", $"    raise ValueError({i % 5})\n")).ToArray();
        string tokenizerPath = Path.Combine(root, "tokenizer.json");
        BpeTrainer.Train(pairs.SelectMany(p => new[] { p.Prompt + p.Chosen, p.Prompt + p.Rejected }), new BpeTrainerOptions { VocabSize = 300 }, tokenizerPath);
        string policyDir = Path.Combine(root, "policy");
        ModelInitializer.Create(new ModelShape("qwen2", Hidden: 64, Layers: 2, Heads: 4, KvHeads: 2, Intermediate: 128, Tied: true),
            tokenizerPath, policyDir, seed: 3);
        string pairsPath = Path.Combine(root, "pairs.jsonl");
        PreferencePairs.Write(pairsPath, pairs);
        return (policyDir, pairsPath);
    }

    private static readonly PreferenceOptions Options = new()
    {
        MaxSteps = 30, BatchSize = 8, LearningRate = 3e-3, Beta = 0.5, HeldOutFraction = 0.25, EvalEvery = 10, LogEvery = 1, Seed = 11,
    };

    [Theory]
    [InlineData(PreferenceLossKind.Dpo)]
    [InlineData(PreferenceLossKind.Ipo)]
    [InlineData(PreferenceLossKind.Kto)]
    public async Task AFewStepsRaiseTheHeldOutImplicitRewardAccuracy(PreferenceLossKind loss)
    {
        using var temp = new TempDirectory();
        (string policyDir, string pairsPath) = Setup(temp.Path);
        string outDir = temp["run"];
        PreferenceResult result = await PreferenceTrainer.RunAsync(policyDir, pairsPath, outDir, Options with { Loss = loss }, CPU, ScalarType.Float32);

        Assert.True(result.Completed);
        Assert.Equal((30, 10), (result.TrainPairs, result.HeldOutPairs));
        Assert.True(result.ReferenceComputed);
        // Before training π = π_ref, so every ρ is 0 and no held-out pair has ρ_w > ρ_l.
        Assert.True(result.HeldOutAccuracy >= 0.8, $"{loss}: held-out accuracy {result.HeldOutAccuracy}");
        Assert.True(result.HeldOutMargin > 0, $"{loss}: held-out margin {result.HeldOutMargin}");
        string[] records = File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl"));
        Assert.Equal(30, records.Length);
        using (JsonDocument first = JsonDocument.Parse(records[0]))
        {
            // Step 1 runs at π = π_ref: ρ = 0, so the DPO loss is log 2 and the margin 0 (the reference cache is exact).
            if (loss == PreferenceLossKind.Dpo)
            {
                Assert.Equal(Math.Log(2), first.RootElement.GetProperty("train/loss").GetDouble(), 4);
            }
            Assert.Equal(0, first.RootElement.GetProperty("train/margin").GetDouble(), 4);
        }
        Assert.Equal(3, records.Count(r => r.Contains("eval/accuracy", StringComparison.Ordinal)));
        Assert.Equal(loss == PreferenceLossKind.Kto, records[0].Contains("train/kl", StringComparison.Ordinal));

        // The final model is a loadable Hugging Face causal LM with its tokenizer; summary.json has the figures.
        using CausalLM final = HfCheckpoint.LoadCausalLM(Path.Combine(outDir, PreferenceTrainer.FinalFolder));
        Assert.True(File.Exists(Path.Combine(outDir, PreferenceTrainer.FinalFolder, HfCheckpoint.TokenizerFile)));
        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, PreferenceTrainer.SummaryFile)))!.AsObject();
        Assert.Equal(loss.ToString().ToLowerInvariant(), summary["method"]!.GetValue<string>());
        Assert.Equal(result.HeldOutAccuracy, summary["held_out_accuracy"]!.GetValue<double>(), 9);
        Assert.False(summary.ContainsKey("eval_pass_at_1"));
    }

    [Fact]
    public async Task ResumeReadsTheCachedReferenceAndEqualsAnUninterruptedRun()
    {
        using var temp = new TempDirectory();
        (string policyDir, string pairsPath) = Setup(temp.Path);
        PreferenceOptions options = Options with { Loss = PreferenceLossKind.Kto, MaxSteps = 12, EvalEvery = 4, SaveEvery = 4 };

        PreferenceResult straight = await PreferenceTrainer.RunAsync(policyDir, pairsPath, temp["straight"], options, CPU, ScalarType.Float32);
        PreferenceResult first = await PreferenceTrainer.RunAsync(policyDir, pairsPath, temp["split"], options with { StopAfterSteps = 5 }, CPU, ScalarType.Float32);
        Assert.False(first.Completed);
        Assert.True(first.ReferenceComputed);
        Assert.True(File.Exists(temp[Path.Combine("split", ReferenceLogprobs.CacheFile)]));
        PreferenceResult resumed = await PreferenceTrainer.RunAsync(policyDir, pairsPath, temp["split"], options, CPU, ScalarType.Float32,
            resume: ResumeMode.Resume);
        Assert.True(resumed.Completed);
        Assert.False(resumed.ReferenceComputed); // read from reference_logprobs.json, not recomputed

        Assert.Equal(File.ReadAllBytes(temp["straight/final/model.safetensors"]), File.ReadAllBytes(temp["split/final/model.safetensors"]));
        Assert.Equal(File.ReadAllLines(temp["straight/metrics.jsonl"]), File.ReadAllLines(temp["split/metrics.jsonl"]));
        Assert.Equal(straight.HeldOutAccuracy, resumed.HeldOutAccuracy);

        // A fresh run into a folder holding this run's checkpoints is refused (before any reference work) unless forced.
        await Assert.ThrowsAsync<RunFolderException>(() => PreferenceTrainer.RunAsync(policyDir, pairsPath, temp["split"], options, CPU, ScalarType.Float32));

        // The cache is keyed by what it was computed from: other pairs are recomputed, the same ones are not.
        PreferencePair[] changed = [.. PreferencePairs.Load(pairsPath).Select(p => p with { Chosen = p.Chosen + "    # done\n" })];
        PreferencePairs.Write(temp["changed.jsonl"], changed);
        PreferenceResult again = await PreferenceTrainer.RunAsync(policyDir, temp["changed.jsonl"], temp["split"], options with { MaxSteps = 1 },
            CPU, ScalarType.Float32, force: true);
        Assert.True(again.ReferenceComputed);
        PreferenceResult same = await PreferenceTrainer.RunAsync(policyDir, temp["changed.jsonl"], temp["split"], options with { MaxSteps = 2 },
            CPU, ScalarType.Float32, force: true);
        Assert.False(same.ReferenceComputed);
    }

    [Fact]
    public void TheCliNamesTheFileAndLineOfABadPairAndRefusesNonsenseFlags()
    {
        using var temp = new TempDirectory();
        (string policyDir, string pairsPath) = Setup(temp.Path);
        File.WriteAllLines(temp["bad.jsonl"], [File.ReadLines(pairsPath).First(), "{\"task_id\": \"t/x\", \"prompt\": \"def g():\\n\", \"chosen\": \"    pass\\n\"}"]);
        CliRunner.Result bad = CliRunner.Run("dpo", "--policy", policyDir, "--pairs", temp["bad.jsonl"], "--out", temp["run"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains(temp["bad.jsonl"] + ":2", bad.StdErr);
        Assert.Contains("rejected", bad.StdErr);

        foreach (string[] flags in new[] { new[] { "--beta", "0" }, ["--loss", "orpo"], ["--eval-limit", "3"], ["--lr", "NaN"] })
        {
            CliRunner.Result refused = CliRunner.Run(["dpo", "--policy", policyDir, "--pairs", pairsPath, "--out", temp["run2"], .. flags]);
            Assert.True(refused.ExitCode != 0, $"{string.Join(' ', flags)} was accepted");
            Assert.Contains(flags[0] == "--loss" ? "orpo" : flags[0], refused.StdErr);
            Assert.False(Directory.Exists(temp["run2"]), "a refused command did no work");
        }

        CliRunner.Result ok = CliRunner.Run("dpo", "--policy", policyDir, "--pairs", pairsPath, "--out", temp["cli"], "--loss", "ipo", "--max-steps", "2",
            "--batch-size", "4", "--seed", "1");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Contains("IPO", ok.StdOut);
        Assert.True(File.Exists(temp["cli/final/model.safetensors"]));
        Assert.True(File.Exists(temp["cli/summary.json"]));
    }

    [Fact]
    public void AConfigFileSetsFlagsAndTheCommandLineWins()
    {
        using var temp = new TempDirectory();
        (string policyDir, string pairsPath) = Setup(temp.Path);
        File.WriteAllText(temp["dpo.yaml"], "loss: kto\nmax_steps: 2\nbatch-size: 4\nbeta: 0.2\n");
        CliRunner.Result ok = CliRunner.Run("dpo", "--policy", policyDir, "--pairs", pairsPath, "--out", temp["run"], "--config", temp["dpo.yaml"],
            "--loss", "ipo");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        JsonObject summary = JsonNode.Parse(File.ReadAllText(temp["run/summary.json"]))!.AsObject();
        Assert.Equal("ipo", summary["method"]!.GetValue<string>());
        Assert.Equal(2, summary["steps"]!.GetValue<int>());
        Assert.Equal(0.2, summary["beta"]!.GetValue<double>(), 9);

        File.WriteAllText(temp["bad.yaml"], "loss: dpo\nbetta: 0.2\n");
        CliRunner.Result bad = CliRunner.Run("dpo", "--policy", policyDir, "--pairs", pairsPath, "--out", temp["run2"], "--config", temp["bad.yaml"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("line 2", bad.StdErr);
        Assert.Contains("betta", bad.StdErr);
    }
}
