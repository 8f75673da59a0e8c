using System.Text.Json.Nodes;
using PfPpo.Compare;
using PfPpo.Model;
using PfPpo.Pipeline;
using static TorchSharp.torch;

namespace PfPpo.Tests.Compare;

public class ComparisonTests
{
    /// <summary>A comparison at a toy size: the demo's toy shared stages plus a validation split, two seeds, short RL runs.</summary>
    private static readonly CompareSettings Toy = new()
    {
        Methods = ["sft", "ppo-m", "pf-br", "pf-bw", "raft", "bond"],
        Seeds = [1, 2],
        Shared = new DemoSettings
        {
            TrainTasks = 120, TestTasks = 12, ValidationTasks = 8, VocabSize = 300, MaxNewTokens = 32,
            Shape = new ModelShape("qwen2", Hidden: 32, Layers: 1, Heads: 1, KvHeads: 1, Intermediate: 64, Tied: true, MaxPositions: 512),
            RmData = new() { Prompts = 24, SamplesPerPrompt = 3, MaxNewTokens = 24, Pairing = PfPpo.Rewards.PairingMode.All },
            Rm = new() { Epochs = 1, BatchSize = 8, LearningRate = 1e-3, HeldOutFraction = 0.25, EvalEvery = 0, SaveEvery = 0 },
            R2 = new() { Bootstrap = 20, Sampling = new() { SamplesPerPrompt = 3, MaxNewTokens = 24 } },
        } is var s ? s with { Sft = s.Sft with { Epochs = 1, BatchSize = 16, EvalEvery = 0, SaveEvery = 0 } } : null!,
        Ppo = new() { Iterations = 2, PromptsPerIteration = 3, SamplesPerPrompt = 2, MaxNewTokens = 16, MiniBatchSize = 6, Epochs = 1, EvalEvery = 1, HeldOutFraction = 0 },
        Raft = new() { SamplesPerPrompt = 2, Prompts = 6, Rounds = 2, MaxNewTokens = 16, Sft = new() { Epochs = 1, BatchSize = 4, HeldOutFraction = 0, EvalEvery = 0 } },
        Bond = new() { Iterations = 2, SamplesPerPrompt = 2, Prompts = 4, MaxNewTokens = 16, BatchSize = 4 },
        MaxNewTokens = 24,
        Bootstrap = 50,
    };

    private sealed class Recorder : IStageObserver
    {
        public List<StageRecord> Ends { get; } = [];
        public void Started(string stage) { }
        public void Progress(string stage, double fraction, string message) => Assert.InRange(fraction, 0, 1);
        public void Finished(StageRecord record) => Ends.Add(record);
    }

    [Fact]
    public async Task RunsEveryMethodAndSeedAndCompareJsonIsRecomputableFromTheRuns()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var first = new Recorder();
        ComparisonResult result = await Comparison.RunAsync(dir, Toy, "pfppo compare (test)", force: false, first, CPU);

        Assert.Equal([.. SharedStages.Names(evaluate: false), .. Comparison.RunStages(Toy)], first.Ends.Select(r => r.Stage));
        JsonObject json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, Comparison.JsonFile)))!.AsObject();
        JsonObject methods = json["methods"]!.AsObject();
        string[] names = [.. Comparison.Resolve(Toy).Select(m => m.Name)];
        Assert.Equal(["sft", "raft", "bond", "ppo-m", "pf-br", "pf-bw"], names);   // the catalog's order, whatever order they were asked in
        Assert.Equal(names, methods.Select(kv => kv.Key));
        foreach (string method in names)
        {
            JsonObject m = methods[method]!.AsObject();
            double[] perSeed = [.. m["pass_at_1"]!["per_seed"]!.AsArray().Select(v => v!.GetValue<double>())];
            for (int i = 0; i < Toy.Seeds.Count; i++)
            {
                string runDir = Path.Combine(dir, "runs", method, $"seed-{Toy.Seeds[i]}");
                JsonObject summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!.AsObject();
                Assert.Equal(summary["eval_pass_at_1"]!.GetValue<double>(), perSeed[i]);
                // the figure is the share of the test samples that passed, in the run's own eval file
                string[] lines = File.ReadAllLines(Path.Combine(runDir, "eval", "test-final.jsonl"));
                Assert.Equal(12, lines.Length);
                Assert.Equal(lines.Count(l => JsonNode.Parse(l)!["passed"]!.GetValue<bool>()) / 12.0, perSeed[i], 12);
                Assert.InRange(summary["best_checkpoint"]!.GetValue<string>().Length, 1, 100);
            }
            Assert.Equal(perSeed.Average(), m["pass_at_1"]!["mean"]!.GetValue<double>(), 12);
            Assert.NotNull(m["pass_at_1"]!["ci_low"]);
            Assert.All(m["by_difficulty"]!.AsObject(), kv => Assert.Contains(kv.Key, new[] { "1", "2", "3" }));
        }
        // SFT is one model: the same pass@1 on every seed; every method has its paired difference to PPO-M and SFT
        Assert.Single(methods["sft"]!["pass_at_1"]!["per_seed"]!.AsArray().Select(v => v!.GetValue<double>()).Distinct());
        Assert.Null(methods["sft"]!["vs_sft"]);
        Assert.NotNull(methods["pf-br"]!["vs_ppo_m"]);
        Assert.NotNull(methods["raft"]!["vs_sft"]);
        Assert.Equal("br", methods["pf-br"]!["filter"]!.GetValue<string>());
        Assert.True(methods["ppo-m"]!["samples_trained"]!.GetValue<double>() > 0);
        Assert.True(methods["bond"]!["samples_trained"]!.GetValue<double>() > 0);
        // best on validation is chosen among each run's checkpoints: PPO's best/ and final/, each RAFT round, each BOND iteration
        Assert.All(Toy.Seeds, seed => Assert.Equal(2, JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "runs", "bond", $"seed-{seed}", "summary.json")))!["candidates"]!.GetValue<int>()));
        // R² comes from the shared r2 stage, measured on the validation prompts, for every filtration row's strategy
        JsonObject r2 = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "shared", "r2", "r2.json")))!["strategies"]!.AsObject();
        Assert.Equal(ComparisonMethods.Strategies(ComparisonMethods.All), r2.Select(kv => kv.Key));
        Assert.Equal(8 * 3, File.ReadAllLines(Path.Combine(dir, "shared", "r2", "samples.jsonl")).Length);

        // compare.json's figures are what the runs' summary.json files give
        JsonObject recomputed = Comparison.Recompute(dir, names, Toy.Seeds, Toy.Bootstrap);
        Assert.Equal(recomputed["methods"]!.ToJsonString(), json["methods"]!.ToJsonString());
        Assert.Equal(recomputed["r2_rank_correlation"]?.ToJsonString(), json["r2_rank_correlation"]?.ToJsonString());

        string table = File.ReadAllText(Path.Combine(dir, Comparison.TableFile));
        Assert.Equal(result.Table, table);
        Assert.Contains("Table 2", table);
        Assert.All(Toy.Methods, m => Assert.Contains(m, table));
        Assert.True(File.Exists(Path.Combine(dir, Comparison.ConfigFile)));

        // the report reads a real comparison folder: both tables, every method, embedded figures
        string html = File.ReadAllText(PfPpo.Reports.HtmlReport.Write(dir));
        Assert.All(names, m => Assert.Contains(m, html));
        Assert.Contains("data:image/png;base64,", html);
        Assert.DoesNotContain("http://", html);

        // a second run reuses every stage; another seed runs only the new seed's stages
        var second = new Recorder();
        await Comparison.RunAsync(dir, Toy, "again", force: false, second, CPU);
        Assert.All(second.Ends, r => Assert.True(r.Reused, $"{r.Stage} ran again"));
        var third = new Recorder();
        await Comparison.RunAsync(dir, Toy with { Methods = ["sft", "ppo-m"], Seeds = [1, 2, 3] }, "more seeds", force: false, third, CPU);
        Assert.Equal(["sft/seed-3", "ppo-m/seed-3"], third.Ends.Where(r => !r.Reused).Select(r => r.Stage));
        // the toy SFT model passes nothing, so the RM data has no pair: the preference methods are refused by name
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Comparison.RunAsync(dir, Toy with { Methods = ["dpo", "iterative-dpo"] },
            "dpo", force: false, null, CPU));
        Assert.StartsWith("dpo, iterative-dpo: the reward model's data", refused.Message);
        Assert.Contains("no preference pair", refused.Message);
    }

    [Fact]
    public async Task BadSettingsAreRefusedBeforeAnythingTrains()
    {
        using var temp = new TempDirectory();
        await Assert.ThrowsAsync<ArgumentException>(() => Comparison.RunAsync(temp.Path, Toy with { Seeds = [1, 1] }, "x", false, null, CPU));
        await Assert.ThrowsAsync<FormatException>(() => Comparison.RunAsync(temp.Path, Toy with { Methods = ["ppo-z"] }, "x", false, null, CPU));
        Exception missing = await Assert.ThrowsAnyAsync<Exception>(() => Comparison.RunAsync(temp.Path,
            Toy with { EvalProblems = [Path.Combine(temp.Path, "none.jsonl")] }, "x", false, null, CPU));
        Assert.Contains("none.jsonl", missing.Message);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "shared")));
    }
}
