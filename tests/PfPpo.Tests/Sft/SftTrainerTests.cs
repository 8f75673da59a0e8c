using PfPpo.Checkpoints;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Sft;
using PfPpo.Tests.Model;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;
using Generator = PfPpo.Generation.Generator;

namespace PfPpo.Tests.Sft;

public class SftTrainerTests
{
    private static readonly SftExample[] Examples =
    [
        new("def add_one(x):\n", "    return x + 1\n"),
        new("def double(x):\n", "    return x * 2\n"),
        new("def is_even(n):\n", "    return n % 2 == 0\n"),
        new("def first(items):\n", "    return items[0]\n"),
        new("def shout(s):\n", "    return s.upper() + '!'\n"),
        new("def total(xs):\n", "    return sum(xs)\n"),
    ];

    /// <summary>A tiny model (and tokenizer) written as a HF checkpoint, plus the examples as a jsonl file.</summary>
    private static (string ModelDir, string DataPath) Setup(string root)
    {
        string tokenizerPath = Path.Combine(root, "tokenizer.json");
        BpeTrainer.Train(Examples.Select(e => e.Prompt + e.Completion), new BpeTrainerOptions { VocabSize = 320 }, tokenizerPath);
        string modelDir = Path.Combine(root, "init");
        ModelInitializer.Create(new ModelShape("qwen2", Hidden: 64, Layers: 2, Heads: 4, KvHeads: 2, Intermediate: 128, Tied: true),
            tokenizerPath, modelDir, seed: 3);
        string dataPath = Path.Combine(root, "data.jsonl");
        File.WriteAllLines(dataPath, Examples.Select(e =>
            System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["prompt"] = e.Prompt, ["completion"] = e.Completion })));
        return (modelDir, dataPath);
    }

    private static readonly SftOptions Options = new()
    {
        MaxSteps = 80, BatchSize = 6, LearningRate = 5e-3, WarmupFraction = 0.1, HeldOutFraction = 0, EvalEvery = 0,
        LogEvery = 5, Seed = 7, WeightDecay = 0.0,
    };

    [Fact]
    public async Task LossGoesDownAndTheModelReproducesTheExamplesGreedily()
    {
        using var temp = new TempDirectory();
        string root = temp.Path;
        (string modelDir, string dataPath) = Setup(root);
        string outDir = Path.Combine(root, "sft");

        SftResult result = await SftTrainer.RunAsync(modelDir, dataPath, outDir, Options, CPU, ScalarType.Float32);

        Assert.True(result.Completed);
        Assert.Equal(80, result.Steps);
        string[] lines = File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl"));
        double firstLoss = System.Text.Json.JsonDocument.Parse(lines[0]).RootElement.GetProperty("train/loss").GetDouble();
        Assert.True(result.FinalTrainLoss < firstLoss / 10, $"loss {firstLoss} -> {result.FinalTrainLoss}");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outDir, "tensorboard"), "events.out.tfevents.*"));

        using CausalLM model = HfCheckpoint.LoadCausalLM(outDir);
        var generator = new Generator(model, HfTokenizer.Load(Path.Combine(outDir, "tokenizer.json")));
        var samples = generator.Generate(Examples.Select(e => e.Prompt).ToArray(),
            new SamplingOptions { Temperature = 0, MaxNewTokens = 24 });
        for (int i = 0; i < Examples.Length; i++)
        {
            Assert.Equal(Examples[i].Completion, samples[i].Text);
            Assert.Equal(FinishReason.Eos, samples[i].FinishReason);
        }
    }

    [Fact]
    public async Task AResumedRunMatchesAnUninterruptedOne()
    {
        using var temp = new TempDirectory();
        string root = temp.Path;
        (string modelDir, string dataPath) = Setup(root);
        var options = Options with { MaxSteps = 12, BatchSize = 4 };   // 2 batches per epoch: the resume point is mid-epoch

        string straight = Path.Combine(root, "straight");
        await SftTrainer.RunAsync(modelDir, dataPath, straight, options, CPU, ScalarType.Float32);

        string resumed = Path.Combine(root, "resumed");
        SftResult first = await SftTrainer.RunAsync(modelDir, dataPath, resumed, options with { StopAfterSteps = 5 }, CPU, ScalarType.Float32);
        Assert.False(first.Completed);
        Assert.Equal(5, first.Steps);
        Assert.True(new CheckpointStore(resumed, 2, ResumeMode.Resume).HasCheckpoints);
        SftResult second = await SftTrainer.RunAsync(modelDir, dataPath, resumed, options, CPU, ScalarType.Float32, resume: ResumeMode.Resume);
        Assert.True(second.Completed);

        using CausalLM a = HfCheckpoint.LoadCausalLM(straight);
        using CausalLM b = HfCheckpoint.LoadCausalLM(resumed);
        var bParameters = b.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in a.named_parameters())
        {
            Assert.True(TestModels.MaxDiff(parameter, bParameters[name]) == 0, $"{name} differs after resume");
        }
        // The metrics of the resumed run continue the file, and hold the same records as the uninterrupted run's.
        static int[] Steps(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToArray();
        Assert.Equal(Steps(straight), Steps(resumed));
        Assert.Equal(new[] { 5, 10, 12 }, Steps(resumed));
    }

    [Fact]
    public async Task ResumeWithOtherSettingsIsRefused()
    {
        using var temp = new TempDirectory();
        string root = temp.Path;
        (string modelDir, string dataPath) = Setup(root);
        string outDir = Path.Combine(root, "sft");
        var options = Options with { MaxSteps = 4, StopAfterSteps = 2 };
        await SftTrainer.RunAsync(modelDir, dataPath, outDir, options, CPU, ScalarType.Float32);
        var e = await Assert.ThrowsAsync<RunFolderException>(() =>
            SftTrainer.RunAsync(modelDir, dataPath, outDir, options with { MaxSteps = 8, LearningRate = 1e-3 }, CPU, ScalarType.Float32, resume: ResumeMode.Resume));
        Assert.Contains("other settings", e.Message);
        Assert.Contains("MaxSteps", e.Message);
        Assert.Contains("LearningRate", e.Message);
        e = await Assert.ThrowsAsync<RunFolderException>(() =>
            SftTrainer.RunAsync(modelDir, dataPath, Path.Combine(root, "empty"), options, CPU, ScalarType.Float32, resume: ResumeMode.Resume));
        Assert.Contains("no complete checkpoint", e.Message);

        // Same settings, other data: the content hash of the data file tells.
        File.AppendAllText(dataPath, "{\"prompt\": \"def z():\\n\", \"completion\": \"    return 0\\n\"}\n");
        e = await Assert.ThrowsAsync<RunFolderException>(() =>
            SftTrainer.RunAsync(modelDir, dataPath, outDir, options, CPU, ScalarType.Float32, resume: ResumeMode.Resume));
        Assert.Contains("input data has changed", e.Message);
    }

    [Fact]
    public async Task AFreshRunIntoAnotherRunsFolderIsRefusedUnlessForced()
    {
        using var temp = new TempDirectory();
        (string modelDir, string dataPath) = Setup(temp.Path);
        string outDir = Path.Combine(temp.Path, "sft");
        var options = Options with { MaxSteps = 4, StopAfterSteps = 2 };
        await SftTrainer.RunAsync(modelDir, dataPath, outDir, options, CPU, ScalarType.Float32);
        var e = await Assert.ThrowsAsync<RunFolderException>(() => SftTrainer.RunAsync(modelDir, dataPath, outDir, options, CPU, ScalarType.Float32));
        Assert.Contains("--resume", e.Message);
        Assert.Contains("--force", e.Message);
        SftResult forced = await SftTrainer.RunAsync(modelDir, dataPath, outDir, options with { StopAfterSteps = null }, CPU, ScalarType.Float32, force: true);
        Assert.True(forced.Completed);
    }
}
