using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Raft;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Sft;
using PfPpo.Tests.Cli;
using PfPpo.Tests.Ppo;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Raft;

public class RaftSelectionTests
{
    private static ScoredSample S(int group, int sample, double? reward) =>
        new($"t/{group}", group, sample, $"c{group}.{sample}", [1], 0, false, "failed", reward, 0);

    [Fact]
    public void KeepsTheArgmaxRewardResponsePerPrompt()
    {
        ScoredSample[] samples = [S(1, 0, 0.5), S(1, 1, 2.0), S(1, 2, -1), S(0, 0, -3), S(0, 1, -0.5), S(0, 2, -0.5), S(2, 0, 7)];
        IReadOnlyList<ScoredSample> best = RaftSelection.Best(samples);
        Assert.Equal(["c0.1", "c1.1", "c2.0"], best.Select(s => s.Completion)); // group order; a tie keeps the lower sample index
        Assert.Throws<ArgumentException>(() => RaftSelection.Best([S(0, 0, null)]));
    }
}

public class RaftTrainerTests(PpoFixture fixture) : IClassFixture<PpoFixture>
{
    private static readonly RaftOptions Options = new()
    {
        SamplesPerPrompt = 3, Prompts = 4, Rounds = 2, MaxNewTokens = 24, Seed = 5, Workers = 2,
        Sft = new RaftOptions().Sft with { BatchSize = 2, LearningRate = 1e-3 },
    };

    [Fact]
    public async Task EachRoundKeepsTheRmsBestPerPromptAndFineTunesOnIt()
    {
        string outDir = fixture.Run("raft-" + Guid.NewGuid().ToString("N"));
        var inputs = new RaftInputs(fixture.Policy, fixture.RewardModelDir, fixture.Train, outDir);
        RaftResult result = await RaftTrainer.RunAsync(inputs, Options, CPU, ScalarType.Float32);
        Assert.Equal(2, result.Rounds.Count);
        Assert.Equal(0, result.RoundsReused);

        using ScalarHeadModel rm = HfCheckpoint.LoadScalarHead(fixture.RewardModelDir);
        HfTokenizer rmTokenizer = HfTokenizer.Load(Path.Combine(fixture.RewardModelDir, HfCheckpoint.TokenizerFile));
        for (int round = 1; round <= 2; round++)
        {
            string dir = RaftTrainer.RoundFolder(outDir, round);
            IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(Path.Combine(dir, RaftTrainer.SamplesFile));
            Assert.Equal(12, samples.Count);
            Assert.All(samples, s => Assert.NotNull(s.Reward));
            var kept = JsonLines.Read(Path.Combine(dir, RaftTrainer.KeptFile)).Select(x => (
                TaskId: x.Record.GetProperty("task_id").GetString()!, Prompt: x.Record.GetProperty("prompt").GetString()!,
                Completion: x.Record.GetProperty("completion").GetString()!)).ToArray();
            Assert.Equal(4, kept.Length);
            foreach (var k in kept)
            {
                ScoredSample[] group = samples.Where(s => s.TaskId == k.TaskId).ToArray();
                Assert.Equal(group.MaxBy(s => s.Reward)!.Completion, k.Completion);
                // The stored rewards are the RM's scores of (prompt, completion), as RewardModel reads them.
                float[] rescored = RewardModel.Score(rm, group.Select(s => RewardModel.Sequence(rmTokenizer, rmTokenizer.Encode(k.Prompt), s.Completion)).ToArray(),
                    0, 8, CPU);
                Assert.Equal(group.Select(s => s.Reward!.Value), rescored.Select(r => (double)r), new Near(1e-5));
            }
            Assert.True(File.Exists(Path.Combine(dir, "sft", "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, RaftTrainer.RoundFile)));
        }
        // Round 2 sampled from round 1's model, which SFT changed.
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(fixture.Policy, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(RaftTrainer.RoundFolder(outDir, 1), "sft", "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(RaftTrainer.RoundFolder(outDir, 2), "sft", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(outDir, RaftTrainer.FinalFolder, "model.safetensors")));
        using (HfCheckpoint.LoadCausalLM(Path.Combine(outDir, RaftTrainer.FinalFolder)))
        {
        }
        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, RaftTrainer.SummaryFile)))!.AsObject();
        Assert.Equal(2, summary["rounds"]!.AsArray().Count);

        // A resume reuses finished rounds; a fresh run into the folder, or a resume with other settings, is refused.
        RaftResult resumed = await RaftTrainer.RunAsync(inputs, Options, CPU, ScalarType.Float32, ResumeMode.Resume);
        Assert.Equal(2, resumed.RoundsReused);
        Assert.Equal(result.Rounds, resumed.Rounds);
        await Assert.ThrowsAsync<RunFolderException>(() => RaftTrainer.RunAsync(inputs, Options, CPU, ScalarType.Float32));
        RunFolderException e = await Assert.ThrowsAsync<RunFolderException>(() =>
            RaftTrainer.RunAsync(inputs, Options with { SamplesPerPrompt = 2 }, CPU, ScalarType.Float32, ResumeMode.Resume));
        Assert.Contains("SamplesPerPrompt", e.Message);
    }

    [Fact]
    public void TheCliRunsARoundFromAConfigFileAndRefusesNonsenseFlags()
    {
        string outDir = fixture.Run("raft-cli-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(outDir + ".yaml", "n: 2\nprompts: 2\nmax-new-tokens: 16\nbatch_size: 2\n");
        CliRunner.Result ok = CliRunner.Run("raft", "--policy", fixture.Policy, "--rm", fixture.RewardModelDir, "--problems", fixture.Train,
            "--out", outDir, "--config", outDir + ".yaml", "--workers", "2", "--eval-problems", fixture.Test, "--eval-limit", "2");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Contains("round", ok.StdOut);
        Assert.Equal(4, ScoredSamples.Read(Path.Combine(RaftTrainer.RoundFolder(outDir, 1), RaftTrainer.SamplesFile)).Count);
        JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, RaftTrainer.SummaryFile)))!.AsObject();
        Assert.InRange(summary["eval_pass_at_1"]!.GetValue<double>(), 0, 1);

        foreach (string[] flags in new[] { new[] { "--n", "0" }, ["--rm", outDir + "-missing"], ["--eval-limit", "3"], ["--temperature", "-1"] })
        {
            string[] args = ["raft", "--policy", fixture.Policy, "--rm", fixture.RewardModelDir, "--problems", fixture.Train, "--out", outDir + "-refused", .. flags];
            CliRunner.Result refused = CliRunner.Run(args);
            Assert.True(refused.ExitCode != 0, $"{string.Join(' ', flags)} was accepted");
            Assert.Contains(flags[0], refused.StdErr);
            Assert.False(Directory.Exists(outDir + "-refused"), "a refused command did no work");
        }
    }

    private sealed class Near(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(double value) => 0;
    }
}
