using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Bond;
using PfPpo.Checkpoints;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Tests.Cli;
using PfPpo.Tests.Ppo;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Bond;

public class BondTrainerTests(PpoFixture fixture) : IClassFixture<PpoFixture>
{
    private static readonly BondOptions Options = new()
    {
        Iterations = 2, SamplesPerPrompt = 3, Prompts = 4, MaxNewTokens = 16, BatchSize = 2, LearningRate = 1e-3, Seed = 5, Workers = 2,
    };

    [Fact]
    public async Task EachIterationDistilsTheAnchorsSamplesAndWritesFinalSummaryAndMetrics()
    {
        string outDir = fixture.Run("bond-" + Guid.NewGuid().ToString("N"));
        var inputs = new BondInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, outDir, fixture.Test);
        BondResult result = await BondTrainer.RunAsync(inputs, Options with { EvalLimit = 2 }, CPU, ScalarType.Float32);
        Assert.Equal(2, result.Iterations.Count);
        Assert.Equal(0, result.IterationsReused);
        Assert.Equal(24, result.SamplesTrained);
        Assert.InRange(result.EvalPassAt1, 0, 1);
        Assert.All(result.Iterations, i => Assert.Equal(2, i.Steps)); // 4 prompts, 2 per step, one epoch

        for (int iteration = 1; iteration <= 2; iteration++)
        {
            string dir = BondTrainer.IterationFolder(outDir, iteration);
            IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(Path.Combine(dir, BondTrainer.SamplesFile));
            Assert.Equal(12, samples.Count);
            Assert.All(samples, s => Assert.NotNull(s.Reward));
            BondTrainer.SampleLogprobs logprobs = JsonSerializer.Deserialize<BondTrainer.SampleLogprobs>(File.ReadAllText(Path.Combine(dir, BondTrainer.LogprobsFile)))!;
            Assert.Equal(12, logprobs.Anchor.Length);
            // Iteration 1's anchor is π_ref itself; iteration 2's is iteration 1's model, which training moved.
            Assert.Equal(iteration == 1, logprobs.Anchor.SequenceEqual(logprobs.Reference));
            Assert.True(File.Exists(Path.Combine(dir, BondTrainer.IterationFile)));
        }
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(fixture.Policy, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(BondTrainer.IterationFolder(outDir, 1), BondTrainer.ModelFolder, "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(BondTrainer.IterationFolder(outDir, 2), BondTrainer.ModelFolder, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(outDir, BondTrainer.FinalFolder, "model.safetensors")));
        using (HfCheckpoint.LoadCausalLM(Path.Combine(outDir, BondTrainer.FinalFolder)))
        {
        }

        // One metrics.jsonl across iterations, steps 1..4, with the reward and KL keys; the first step runs at π = π_ref.
        JsonElement[] records = File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2, 3, 4], records.Select(r => r.GetProperty("step").GetInt32()));
        Assert.All(records, r => Assert.True(r.TryGetProperty("train/reward_mean", out _) && r.TryGetProperty("train/kl", out _)));
        Assert.Equal(0, records[0].GetProperty("train/kl").GetDouble(), 4);
        Assert.Equal(0, records[0].GetProperty("train/kl_anchor").GetDouble(), 4);
        Assert.Equal([1, 1, 2, 2], records.Select(r => (int)r.GetProperty("train/iteration").GetDouble()));
        Assert.True(Directory.Exists(Path.Combine(outDir, "tensorboard")));
        JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, RoundRuns.ConfigFile)))!.AsObject();
        Assert.Equal(1.0, config["options"]!["Beta"]!.GetValue<double>());

        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, BondTrainer.SummaryFile)))!.AsObject();
        Assert.Equal("bond", summary["method"]!.GetValue<string>());
        Assert.Equal(2, summary["iterations"]!.AsArray().Count);
        Assert.Equal(result.EvalPassAt1, summary["eval_pass_at_1"]!.GetValue<double>(), 9);
        Assert.Equal(24, summary["samples_trained"]!.GetValue<long>());
    }

    [Fact]
    public async Task AnInterruptedRunResumesToTheSameResultAndOtherSettingsAreRefused()
    {
        BondOptions options = Options with { Beta = 0.5 };
        string straight = fixture.Run("bond-straight-" + Guid.NewGuid().ToString("N"));
        string split = fixture.Run("bond-split-" + Guid.NewGuid().ToString("N"));
        BondResult whole = await BondTrainer.RunAsync(new BondInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, straight), options, CPU,
            ScalarType.Float32);

        // Cancelled as iteration 2 starts sampling: iteration 1 is done, iteration 2 has nothing yet.
        var inputs = new BondInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, split);
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<BondProgress>(p =>
        {
            if (p.Iteration == 2 && p.Phase == "sample")
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            BondTrainer.RunAsync(inputs, options, CPU, ScalarType.Float32, progress: progress, cancellation: cancel.Token));
        Assert.True(File.Exists(Path.Combine(BondTrainer.IterationFolder(split, 1), BondTrainer.IterationFile)));
        Assert.False(File.Exists(Path.Combine(BondTrainer.IterationFolder(split, 2), BondTrainer.IterationFile)));

        await Assert.ThrowsAsync<RunFolderException>(() => BondTrainer.RunAsync(inputs, options, CPU, ScalarType.Float32));
        RunFolderException e = await Assert.ThrowsAsync<RunFolderException>(() =>
            BondTrainer.RunAsync(inputs, options with { Beta = 1.0 }, CPU, ScalarType.Float32, ResumeMode.Resume));
        Assert.Contains("Beta", e.Message);

        BondResult resumed = await BondTrainer.RunAsync(inputs, options, CPU, ScalarType.Float32, ResumeMode.Resume);
        Assert.Equal(1, resumed.IterationsReused);
        Assert.Equal(whole.Iterations.Select(i => i with { Seconds = 0 }), resumed.Iterations.Select(i => i with { Seconds = 0 }));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "final", "model.safetensors")), File.ReadAllBytes(Path.Combine(split, "final", "model.safetensors")));
        Assert.Equal(File.ReadAllLines(Path.Combine(straight, "metrics.jsonl")), File.ReadAllLines(Path.Combine(split, "metrics.jsonl")));
    }

    [Fact]
    public void TheCliRunsAnIterationAndNamesBadInputs()
    {
        string outDir = fixture.Run("bond-cli-" + Guid.NewGuid().ToString("N"));
        CliRunner.Result ok = CliRunner.Run("bond", "--policy", fixture.Policy, "--rm", fixture.RewardModelDir, "--problems", fixture.Train,
            "--out", outDir, "--iterations", "1", "--n", "2", "--prompts", "2", "--max-new-tokens", "8", "--workers", "2");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Contains("model:", ok.StdOut);
        Assert.True(File.Exists(Path.Combine(outDir, BondTrainer.FinalFolder, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(outDir, BondTrainer.SummaryFile)));

        foreach (string[] flags in new[] { new[] { "--iterations", "0" }, ["--beta", "-1"], ["--beta", "1.5"], ["--n", "1"], ["--rm", outDir + "-missing"],
                     ["--eval-limit", "3"], ["--lr", "NaN"] })
        {
            string[] args = ["bond", "--policy", fixture.Policy, "--rm", fixture.RewardModelDir, "--problems", fixture.Train, "--out", outDir + "-refused", .. flags];
            CliRunner.Result refused = CliRunner.Run(args);
            Assert.True(refused.ExitCode != 0, $"{string.Join(' ', flags)} was accepted");
            Assert.Contains(flags[0], refused.StdErr);
            Assert.False(Directory.Exists(outDir + "-refused"), "a refused command did no work");
        }

        string bad = fixture.Run("bond-bad-" + Guid.NewGuid().ToString("N") + ".jsonl");
        File.WriteAllLines(bad, [File.ReadLines(fixture.Train).First(), "{\"task_id\": \"x\", \"prompt\": "]);
        CliRunner.Result malformed = CliRunner.Run("bond", "--policy", fixture.Policy, "--rm", fixture.RewardModelDir, "--problems", bad,
            "--out", outDir + "-bad");
        Assert.NotEqual(0, malformed.ExitCode);
        Assert.Contains(bad + ":2", malformed.StdErr);
    }
}
