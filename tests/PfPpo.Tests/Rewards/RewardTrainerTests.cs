using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Rewards;
using PfPpo.Tests.Cli;
using PfPpo.Tests.Model;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Rewards;

public class RewardTrainerTests
{
    /// <summary>40 prompts; the chosen response returns, the rejected one raises: separable from the last tokens' context.</summary>
    private static (string InitDir, string PairsPath) Setup(string root)
    {
        var pairs = Enumerable.Range(0, 40).Select(i => new PreferencePair($"t/{i}", $"def f{i}(x):\n",
            $"    return x + {i % 7}\n", $"    raise ValueError({i % 5})\n")).ToArray();
        string tokenizerPath = Path.Combine(root, "tokenizer.json");
        BpeTrainer.Train(pairs.SelectMany(p => new[] { p.Prompt + p.Chosen, p.Prompt + p.Rejected }), new BpeTrainerOptions { VocabSize = 300 }, tokenizerPath);
        string initDir = Path.Combine(root, "init");
        ModelInitializer.Create(new ModelShape("qwen2", Hidden: 64, Layers: 2, Heads: 4, KvHeads: 2, Intermediate: 128, Tied: true),
            tokenizerPath, initDir, seed: 3);
        string pairsPath = Path.Combine(root, "pairs.jsonl");
        File.WriteAllLines(pairsPath, pairs.Select(p => JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["task_id"] = p.TaskId, ["prompt"] = p.Prompt, ["chosen"] = p.Chosen, ["rejected"] = p.Rejected,
        })));
        return (initDir, pairsPath);
    }

    private static readonly RewardTrainerOptions Options = new()
    {
        MaxSteps = 60, BatchSize = 8, LearningRate = 3e-3, HeldOutFraction = 0.25, EvalEvery = 20, LogEvery = 5, Seed = 11,
    };

    [Fact]
    public async Task LearnsToRankHeldOutPairsAndWritesASequenceClassificationCheckpoint()
    {
        using var temp = new TempDirectory();
        (string initDir, string pairsPath) = Setup(temp.Path);
        string outDir = temp["rm"];
        RewardTrainerResult result = await RewardTrainer.RunAsync(initDir, pairsPath, outDir, Options, CPU, ScalarType.Float32);

        Assert.True(result.Completed);
        Assert.Equal((30, 10), (result.TrainPairs, result.HeldOutPairs));
        Assert.True(result.HeldOutAccuracy >= 0.9, $"held-out accuracy {result.HeldOutAccuracy}");
        string[] evals = File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl")).Where(l => l.Contains("eval/accuracy")).ToArray();
        Assert.Equal(3, evals.Length); // the accuracy curve: steps 20, 40, 60
        double[] speeds = File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => o.ContainsKey("train/tokens_per_s")).Select(o => o["train/tokens_per_s"]!.GetValue<double>()).ToArray();
        Assert.NotEmpty(speeds);
        Assert.All(speeds, v => Assert.True(v > 0 && double.IsFinite(v), $"tokens/s {v}"));

        // A Hugging Face Qwen2ForSequenceClassification checkpoint with num_labels 1, score.weight and the reward statistics.
        JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!.AsObject();
        Assert.Equal("Qwen2ForSequenceClassification", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(1, config["num_labels"]!.GetValue<int>());
        Assert.Equal(result.RewardMean, config[RewardModel.MeanField]!.GetValue<double>(), 6);
        Assert.Equal(result.RewardStd, config[RewardModel.StdField]!.GetValue<double>(), 6);
        JsonNode check = TestModels.RunReference("check", outDir, "[1]", "0");   // the independent reader accepts it
        Assert.Contains("score.weight", check["names"]!.AsArray().Select(n => n!.GetValue<string>()));

        // Reloaded, it gives the chosen response of a held-out prompt the higher reward, as training measured.
        using ScalarHeadModel rm = HfCheckpoint.LoadScalarHead(outDir);
        Assert.Equal((result.RewardMean, result.RewardStd), RewardModel.ReadStatistics(rm.Config));
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(outDir, "tokenizer.json"));
        using var scope = NewDisposeScope();
        int[] prompt = [.. tokenizer.Encode("def g(x):\n")];
        TokenBatch batch = TokenBatch.Collate(
            [new TokenSequence(prompt, [.. tokenizer.Encode("    return x + 2\n")]), new TokenSequence(prompt, [.. tokenizer.Encode("    raise ValueError(2)\n")])],
            padTokenId: 0, Padding.Right);
        using (no_grad())
        {
            float[] rewards = RewardModel.Rewards(rm, batch).data<float>().ToArray();
            Assert.True(rewards[0] > rewards[1], $"rewards {rewards[0]} vs {rewards[1]}");
        }
    }

    [Fact]
    public async Task PfppoRewardScoresASamplesFileAndNamesUnknownTasks()
    {
        using var temp = new TempDirectory();
        (string initDir, string pairsPath) = Setup(temp.Path);
        await RewardTrainer.RunAsync(initDir, pairsPath, temp["rm"], Options with { EvalEvery = 0 }, CPU, ScalarType.Float32);
        // Held-out-style prompts the RM never saw, as HumanEval problems, and one right and one wrong answer to each.
        int[] ids = [101, 102, 103, 104];
        File.WriteAllLines(temp["problems.jsonl"], ids.Select(i => JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["task_id"] = $"h/{i}", ["prompt"] = $"def f{i}(x):\n", ["canonical_solution"] = "    return x\n",
            ["test"] = "def check(candidate):\n    assert candidate(1) == 1\n", ["entry_point"] = $"f{i}",
        })));
        var samples = ids.SelectMany((i, g) => new[]
        {
            new PfPpo.Rollouts.ScoredSample($"h/{i}", g, 0, $"    return x + {i % 7}\n", [1], 1.0, true, "passed", null, -1),
            new PfPpo.Rollouts.ScoredSample($"h/{i}", g, 1, $"    raise ValueError({i % 5})\n", [1], 0.0, false, "failed", null, -1),
        }).ToArray();
        PfPpo.Rollouts.ScoredSamples.Write(temp["samples.jsonl"], samples);

        CliRunner.Result result = CliRunner.Run("reward", "--rm", temp["rm"], "--problems", temp["problems.jsonl"], "--samples", temp["samples.jsonl"],
            "--out", temp["rewarded.jsonl"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        IReadOnlyList<PfPpo.Rollouts.ScoredSample> rewarded = PfPpo.Rollouts.ScoredSamples.Read(temp["rewarded.jsonl"]);
        Assert.Equal(samples.Select(s => s with { Reward = null, Tokens = [] }), rewarded.Select(s => s with { Reward = null, Tokens = [] }));
        Assert.All(rewarded, s => Assert.NotNull(s.Reward));
        int ranked = ids.Select((_, g) => rewarded[2 * g].Reward > rewarded[2 * g + 1].Reward ? 1 : 0).Sum();
        Assert.True(ranked >= 3, $"the RM ranked {ranked} of 4 unseen prompts right");
        // Scoring in the CLI equals the library's scoring.
        var direct = SampleRewards.Score(temp["rm"], temp["problems.jsonl"], temp["samples.jsonl"], CPU, ScalarType.Float32);
        Assert.Equal(direct.Select(s => s.Reward!.Value), rewarded.Select(s => s.Reward!.Value), new ToleranceComparer(1e-6));

        PfPpo.Rollouts.ScoredSamples.Write(temp["stranger.jsonl"], [samples[0] with { TaskId = "nope/1" }]);
        var e = Assert.Throws<DataFormatException>(() => SampleRewards.Score(temp["rm"], temp["problems.jsonl"], temp["stranger.jsonl"], CPU, ScalarType.Float32));
        Assert.Contains("task_id \"nope/1\"", e.Message);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(double value) => 0;
    }

    [Fact]
    public void TheRewardIsReadAtTheLastRealTokenWhateverThePadding()
    {
        using var scope = NewDisposeScope();
        using var model = new ScalarHeadModel(TestModels.Tiny() with { Architectures = ["Qwen2ForSequenceClassification"] });
        model.InitializeWeights(5, std: 0.3);
        model.eval();
        var sequences = new TokenSequence[] { new([3, 4], [5, 6, 7]), new([8], [9]) };
        using (no_grad())
        {
            float[] batched = RewardModel.Rewards(model, TokenBatch.Collate(sequences, 0, Padding.Right)).data<float>().ToArray();
            float[] left = RewardModel.Rewards(model, TokenBatch.Collate(sequences, 0, Padding.Left)).data<float>().ToArray();
            for (int i = 0; i < sequences.Length; i++)
            {
                float alone = RewardModel.Rewards(model, TokenBatch.Collate([sequences[i]], 0, Padding.Right)).item<float>();
                Assert.Equal(alone, batched[i], 4);
                Assert.Equal(alone, left[i], 4);
            }
        }
    }

    [Fact]
    public async Task AResumedRunMatchesAnUninterruptedOne()
    {
        using var temp = new TempDirectory();
        (string initDir, string pairsPath) = Setup(temp.Path);
        var options = Options with { MaxSteps = 10, EvalEvery = 0 };
        await RewardTrainer.RunAsync(initDir, pairsPath, temp["straight"], options, CPU, ScalarType.Float32);
        Assert.False((await RewardTrainer.RunAsync(initDir, pairsPath, temp["resumed"], options with { StopAfterSteps = 4 }, CPU, ScalarType.Float32)).Completed);
        Assert.True((await RewardTrainer.RunAsync(initDir, pairsPath, temp["resumed"], options, CPU, ScalarType.Float32, ResumeMode.Resume)).Completed);
        using ScalarHeadModel a = HfCheckpoint.LoadScalarHead(temp["straight"]);
        using ScalarHeadModel b = HfCheckpoint.LoadScalarHead(temp["resumed"]);
        var bWeights = b.state_dict();
        foreach ((string name, Tensor value) in a.state_dict())
        {
            Assert.True(TestModels.MaxDiff(value, bWeights[name]) == 0, $"{name} differs after resume");
        }
    }

    [Theory]
    [InlineData("""{"task_id": "a", "prompt": "p", "chosen": "x"}""", "field \"rejected\" must be a string")]
    [InlineData("""{"task_id": "a", "prompt": "p", "chosen": "x", "rejected": "y", "margin": "big"}""", "\"margin\" must be a finite number")]
    [InlineData("""{"task_id": "a", "prompt": "p", "chosen": "x", "rejected": "x"}""", "chosen and rejected are the same")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    public void BadPairsNameTheFileAndLine(string line, string message)
    {
        using var temp = new TempDirectory();
        string path = temp["pairs.jsonl"];
        File.WriteAllLines(path, ["""{"task_id": "ok", "prompt": "p", "chosen": "x", "rejected": "y"}""", line]);
        var e = Assert.Throws<DataFormatException>(() => PreferencePairs.Load(path));
        Assert.Contains($"{path}:2", e.Message);
        Assert.Contains(message, e.Message);
    }
}
