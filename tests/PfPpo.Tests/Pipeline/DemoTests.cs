using System.Text.Json.Nodes;
using PfPpo.Model;
using PfPpo.Pipeline;
using static TorchSharp.torch;

namespace PfPpo.Tests.Pipeline;

public class DemoTests
{
    /// <summary>The demo's pipeline at a toy size: every stage runs, summary.json has the promised fields.</summary>
    private static readonly DemoSettings Toy = new DemoSettings
    {
        TrainTasks = 120, TestTasks = 12, VocabSize = 300, Samples = 2, MaxNewTokens = 32,
        Shape = new ModelShape("qwen2", Hidden: 32, Layers: 1, Heads: 1, KvHeads: 1, Intermediate: 64, Tied: true, MaxPositions: 512),
        RmData = new() { Prompts = 40, SamplesPerPrompt = 4, MaxNewTokens = 32, Pairing = PfPpo.Rewards.PairingMode.All },
        Rm = new() { Epochs = 1, BatchSize = 8, LearningRate = 1e-3, HeldOutFraction = 0.25, EvalEvery = 0, SaveEvery = 0 },
        R2 = new() { Strategies = "none,bon,bw", Bootstrap = 50, Sampling = new() { SamplesPerPrompt = 3, MaxNewTokens = 32 } },
        Ppo = new() { Iterations = 1, PromptsPerIteration = 4, SamplesPerPrompt = 2, MaxNewTokens = 16, MiniBatchSize = 8, Epochs = 1, EvalEvery = 0, HeldOutFraction = 0 },
    } is var s ? s with { Sft = s.Sft with { Epochs = 1, BatchSize = 16, EvalEvery = 0 } } : s;

    private sealed class Recorder : IStageObserver
    {
        public List<string> Starts { get; } = [];
        public List<StageRecord> Ends { get; } = [];
        public void Started(string stage) => Starts.Add(stage);
        public void Progress(string stage, double fraction, string message) => Assert.InRange(fraction, 0, 1);
        public void Finished(StageRecord record) => Ends.Add(record);
    }

    [Fact]
    public async Task RunsEveryStageThenReusesThemAndRerunsOnlyWhatChanged()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var first = new Recorder();
        DemoSummary summary = await Demo.RunAsync(dir, Toy, force: false, first, CPU);

        Assert.Equal(Demo.Stages, first.Starts);
        Assert.All(first.Ends, r => Assert.False(r.Reused));
        Assert.InRange(summary.GreedyPassAt1, 0, 1);
        Assert.InRange(summary.PassAtSamples, summary.SampledPassAt[1], 1);   // pass@k never falls below pass@1 of the same samples
        JsonObject json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
        foreach (string field in new[] { "pass_at_1", "pass_at_2", "mixed_fraction", "stage_seconds", "total_seconds" })
        {
            Assert.True(json.ContainsKey(field), $"summary.json lacks {field}");
        }
        Assert.Equal(Demo.Stages, json["stage_seconds"]!.AsObject().Select(kv => kv.Key));
        Assert.Equal(12, File.ReadAllLines(Path.Combine(dir, "eval", "greedy.jsonl")).Length);
        Assert.Equal(24, File.ReadAllLines(Path.Combine(dir, "eval", "sampled.jsonl")).Length);
        // rm-data: 40 training prompts x 4; r2: the 12 test prompts x 3, rewarded, with r2.json, whose strategies summary.json carries.
        Assert.Equal(160, File.ReadAllLines(Path.Combine(dir, "rm-data", "samples.jsonl")).Length);
        Assert.Equal(36, PfPpo.Rollouts.ScoredSamples.Read(Path.Combine(dir, "r2", "samples.jsonl")).Count(s => s.Reward is not null));
        JsonObject r2 = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "r2", "r2.json")))!.AsObject();
        Assert.Equal(r2["strategies"]!.ToJsonString(), json["r2"]!.ToJsonString());
        Assert.Equal(new[] { "none", "bon", "bw" }, json["r2"]!.AsObject().Select(kv => kv.Key));
        Assert.True(File.Exists(Path.Combine(dir, "r2", "reliability.png")) && File.Exists(Path.Combine(dir, "r2", "r2.png")));
        Assert.True(File.Exists(Path.Combine(dir, "rm", "config.json")));
        // The toy policy passes nothing, so no pair: the RM is untrained and says so (rm_accuracy null, not a number).
        Assert.False(summary.RmTrained);
        Assert.Null(json["rm_accuracy"]);
        Assert.False(json["rm_trained"]!.GetValue<bool>());
        // The RL stages: each ran its iteration and scored its final actor on the test tasks; without a trained RM they
        // train on the execution reward and say so. PF-PPO filters with the best strategy of r2 other than none (br when none has a defined R²).
        foreach (string stage in new[] { "ppo-m", "pf-ppo" })
        {
            Assert.True(File.Exists(Path.Combine(dir, stage, "final", "model.safetensors")), stage);
            Assert.Single(File.ReadAllLines(Path.Combine(dir, stage, "metrics.jsonl")));
        }
        Assert.Equal("execution", summary.PpoM.Reward);
        Assert.Equal("none", summary.PpoM.Filter);
        Assert.NotEqual("none", summary.PfPpo.Filter);
        Assert.Equal(summary.PfPpo.Filter, json["pf_ppo_filter"]!.GetValue<string>());
        Assert.InRange(json["ppo_m_pass_at_1"]!.GetValue<double>(), 0, 1);
        Assert.InRange(json["pf_ppo_pass_at_1"]!.GetValue<double>(), 0, 1);

        var second = new Recorder();
        await Demo.RunAsync(dir, Toy, force: false, second, CPU);
        Assert.All(second.Ends, r => Assert.True(r.Reused, $"{r.Stage} ran again"));

        var third = new Recorder();
        await Demo.RunAsync(dir, Toy with { MaxNewTokens = 24 }, force: false, third, CPU);
        Assert.Equal(new[] { true, true, true, true, false, true, true, true, true, true }, third.Ends.Select(r => r.Reused));

        // The RM's settings change the rm stage and what follows it (r2 and the RL stages), not rm-data.
        var fourth = new Recorder();
        await Demo.RunAsync(dir, Toy with { MaxNewTokens = 24, Rm = Toy.Rm with { LearningRate = 2e-3 } }, force: false, fourth, CPU);
        Assert.Equal(new[] { true, true, true, true, true, true, false, false, false, false }, fourth.Ends.Select(r => r.Reused));
    }
}
