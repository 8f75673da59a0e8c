using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Preference;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Tests.Cli;
using PfPpo.Tests.Ppo;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Preference;

public class IterativeDpoTests(PpoFixture fixture) : IClassFixture<PpoFixture>
{
    private static readonly IterativeDpoOptions Options = new()
    {
        Iterations = 2, SamplesPerPrompt = 3, Prompts = 4, MaxNewTokens = 16, Seed = 7, Workers = 2,
        Preference = new PreferenceOptions { MaxSteps = 3, BatchSize = 2, LearningRate = 1e-3, Beta = 0.5, HeldOutFraction = 0, LogEvery = 1 },
    };

    [Fact]
    public async Task EachRoundPairsFreshSamplesByRmScoreAndTrainsAgainstThePreviousRoundsModel()
    {
        string outDir = fixture.Run("idpo-" + Guid.NewGuid().ToString("N"));
        var inputs = new IterativeDpoInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, outDir, EvalProblems: fixture.Test);
        IterativeDpoResult result = await IterativeDpo.RunAsync(inputs, Options with { EvalLimit = 2 }, CPU, ScalarType.Float32);
        Assert.Equal(2, result.Rounds.Count);
        Assert.All(result.Rounds, r => Assert.Equal(("sampled", 3), (r.PairsSource, r.Steps)));
        Assert.InRange(result.EvalPassAt1, 0, 1);
        Assert.Equal(result.Rounds.Sum(r => r.PairsTrained), result.PairsTrained);

        for (int round = 1; round <= 2; round++)
        {
            string dir = IterativeDpo.RoundFolder(outDir, round);
            IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(Path.Combine(dir, IterativeDpo.SamplesFile));
            Assert.Equal(12, samples.Count);
            IReadOnlyList<PreferencePair> pairs = PreferencePairs.Load(Path.Combine(dir, IterativeDpo.PairsFile));
            Assert.NotEmpty(pairs);
            foreach (PreferencePair pair in pairs)
            {
                // Chosen by the RM's score, not the sandbox's.
                ScoredSample[] group = samples.Where(s => s.TaskId == pair.TaskId).ToArray();
                Assert.True(group.First(s => s.Completion == pair.Chosen).Reward > group.First(s => s.Completion == pair.Rejected).Reward);
            }
            // Step 1 of every round runs at π = its reference (the round's starting model): ρ = 0, the margin 0.
            using JsonDocument first = JsonDocument.Parse(File.ReadLines(Path.Combine(dir, IterativeDpo.TrainingFolder, "metrics.jsonl")).First());
            Assert.Equal(0, first.RootElement.GetProperty("train/margin").GetDouble(), 4);
            Assert.Equal(Math.Log(2), first.RootElement.GetProperty("train/loss").GetDouble(), 4);
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(IterativeDpo.RoundFolder(outDir, 2), "dpo", "final", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(outDir, IterativeDpo.FinalFolder, "model.safetensors")));
        using (HfCheckpoint.LoadCausalLM(Path.Combine(outDir, IterativeDpo.FinalFolder)))
        {
        }
        // The run's metrics.jsonl: both rounds' steps counted across rounds, with the sampled rounds' reward.
        JsonElement[] records = File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 6], records.Select(r => r.GetProperty("step").GetInt32()));
        Assert.Equal([1, 1, 1, 2, 2, 2], records.Select(r => (int)r.GetProperty("train/round").GetDouble()));
        Assert.Equal(result.Rounds[1].RewardMean, records[3].GetProperty("round/reward_mean").GetDouble(), 9);
        Assert.True(Directory.Exists(Path.Combine(outDir, "tensorboard")));
        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, IterativeDpo.SummaryFile)))!.AsObject();
        Assert.Equal("iterative-dpo", summary["method"]!.GetValue<string>());
        Assert.Equal(2, summary["rounds"]!.AsArray().Count);
        Assert.Equal(result.EvalPassAt1, summary["eval_pass_at_1"]!.GetValue<double>(), 9);
    }

    [Fact]
    public async Task AnInterruptedKtoRunResumesToTheSameModel()
    {
        IterativeDpoOptions options = Options with { Preference = Options.Preference with { Loss = PreferenceLossKind.Kto, SaveEvery = 1 } };
        string straight = fixture.Run("idpo-straight-" + Guid.NewGuid().ToString("N"));
        string split = fixture.Run("idpo-split-" + Guid.NewGuid().ToString("N"));
        IterativeDpoResult whole = await IterativeDpo.RunAsync(new IterativeDpoInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, straight),
            options, CPU, ScalarType.Float32);

        var inputs = new IterativeDpoInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, split);
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<IterativeDpoProgress>(p =>
        {
            if (p.Round == 2 && p.Phase == "train" && p.Done == 1)
            {
                cancel.Cancel(); // after round 2's first step
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            IterativeDpo.RunAsync(inputs, options, CPU, ScalarType.Float32, progress: progress, cancellation: cancel.Token));
        Assert.False(File.Exists(Path.Combine(IterativeDpo.RoundFolder(split, 2), IterativeDpo.RoundFile)));

        await Assert.ThrowsAsync<RunFolderException>(() => IterativeDpo.RunAsync(inputs, options, CPU, ScalarType.Float32));
        IterativeDpoResult resumed = await IterativeDpo.RunAsync(inputs, options, CPU, ScalarType.Float32, ResumeMode.Resume);
        Assert.Equal(1, resumed.RoundsReused);
        Assert.Equal(whole.Rounds.Select(r => r with { Seconds = 0 }), resumed.Rounds.Select(r => r with { Seconds = 0 }));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "final", "model.safetensors")), File.ReadAllBytes(Path.Combine(split, "final", "model.safetensors")));
        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(split, IterativeDpo.SummaryFile)))!.AsObject();
        Assert.Equal("iterative-kto", summary["method"]!.GetValue<string>());
    }

    [Fact]
    public void TheCliTrainsRoundOneOnTheGivenPairsAndNamesBadFlags()
    {
        string root = fixture.Run("idpo-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        string pairsPath = Path.Combine(root, "pairs.jsonl");
        PreferencePairs.Write(pairsPath, ProblemSet.Load(fixture.Train).Problems.Take(6)
            .Select(p => new PreferencePair(p.TaskId, EvalPrompt.For(p).Text, "    return 0\n", "    raise ValueError()\n")));
        string outDir = Path.Combine(root, "run");
        CliRunner.Result ok = CliRunner.Run("dpo", "--policy", fixture.Policy, "--pairs", pairsPath, "--out", outDir, "--iterations", "2",
            "--rm", fixture.RewardModelDir, "--problems", fixture.Train, "--prompts", "3", "--n", "3", "--max-new-tokens", "8", "--loss", "ipo",
            "--max-steps", "2", "--batch-size", "2", "--held-out", "0", "--workers", "2");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Contains("round", ok.StdOut);
        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, IterativeDpo.SummaryFile)))!.AsObject();
        Assert.Equal("iterative-ipo", summary["method"]!.GetValue<string>());
        Assert.Equal(["given", "sampled"], summary["rounds"]!.AsArray().Select(r => r!["PairsSource"]!.GetValue<string>()));
        Assert.True(File.Exists(Path.Combine(outDir, "final", "model.safetensors")));

        foreach (string[] flags in new[] { new[] { "--iterations", "0" }, ["--iterations", "2"], ["--rm", root + "-missing"], ["--n", "1"] })
        {
            string[] args = ["dpo", "--policy", fixture.Policy, "--pairs", pairsPath, "--out", outDir + "-refused", .. flags];
            CliRunner.Result refused = CliRunner.Run(args);
            Assert.True(refused.ExitCode != 0, $"{string.Join(' ', flags)} was accepted");
            Assert.Contains(flags[0], refused.StdErr);
            Assert.False(Directory.Exists(outDir + "-refused"), "a refused command did no work");
        }
    }
}
