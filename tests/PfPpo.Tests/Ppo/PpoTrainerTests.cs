using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Filtration;
using PfPpo.Model;
using PfPpo.Ppo;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Ppo;

[Collection(nameof(PpoCollection))]
public class PpoTrainerTests(PpoFixture fixture)
{
    private static readonly PpoOptions Small = new()
    {
        Reward = RewardSource.Rm, PromptsPerIteration = 4, SamplesPerPrompt = 3, Iterations = 2, MaxNewTokens = 12, MiniBatchSize = 4,
        Epochs = 2, EvalEvery = 0, EvalLimit = 3, Seed = 7, Workers = 1, ActorLearningRate = 1e-3, CriticLearningRate = 1e-3,
    };

    private PpoInputs Inputs(string run) => new(fixture.Policy, fixture.RewardModelDir, fixture.Train, fixture.Run(run), fixture.Test);

    private static JsonElement[] Metrics(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    [Fact]
    public async Task TheFirstRatioIsExactlyOneAndEachIterationLogsItsFigures()
    {
        PpoResult result = await PpoTrainer.RunAsync(Inputs("first-ratio"), Small, CPU, ScalarType.Float32);

        Assert.True(result.Completed);
        JsonElement[] lines = Metrics(result.OutputDirectory);
        Assert.Equal(new[] { 1, 2 }, lines.Select(l => l.GetProperty("iteration").GetInt32()));
        foreach (JsonElement line in lines)
        {
            Assert.Equal(0.0, line.GetProperty("first_ratio_deviation").GetDouble());
            Assert.Equal(12, line.GetProperty("samples_trained").GetInt32());
            foreach (string field in new[] { "reward_mean", "kl", "rollout_pass_rate", "entropy", "clip_fraction", "approx_kl", "value_loss", "explained_variance" })
            {
                Assert.True(line.TryGetProperty(field, out _), $"metrics.jsonl lacks {field}");
            }
            JsonElement seconds = line.GetProperty("seconds");
            foreach (string phase in new[] { "generate", "sandbox", "reward", "reference", "critic", "update" })
            {
                Assert.True(seconds.GetProperty(phase).GetDouble() >= 0, phase);
            }
        }
        Assert.True(lines[^1].TryGetProperty("eval_pass_at_1", out JsonElement pass) && pass.GetDouble() is >= 0 and <= 1);
        using (JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.OutputDirectory, PpoTrainer.SummaryFile))))
        {
            Assert.Equal(pass.GetDouble(), summary.RootElement.GetProperty("eval_pass_at_1").GetDouble());
            Assert.Equal(24, summary.RootElement.GetProperty("samples_trained").GetInt64());
        }
        Assert.Equal(["Qwen2ForCausalLM"], HfCheckpoint.LoadConfig(Path.Combine(result.OutputDirectory, PpoTrainer.FinalFolder)).Architectures);
        Assert.Equal(["Qwen2ForSequenceClassification"], HfCheckpoint.LoadConfig(Path.Combine(result.OutputDirectory, PpoTrainer.CriticFolder)).Architectures);
        // The rollouts are on disk, with the RM's raw rewards: every reward_mean is recomputable from them and the RM's statistics (0, 1).
        IReadOnlyList<ScoredSample> first = ScoredSamples.Read(Path.Combine(result.OutputDirectory, PpoTrainer.RolloutsFolder, "iteration-0001.jsonl"));
        Assert.Equal(12, first.Count);
        Assert.Equal(lines[0].GetProperty("reward_mean").GetDouble(), first.Average(s => Math.Clamp(s.Reward!.Value, -5, 5)), 5);
        Assert.True(File.Exists(Path.Combine(result.OutputDirectory, PpoTrainer.ConfigFile)));
    }

    [Fact]
    public async Task AResumedRunEqualsAnUninterruptedOne()
    {
        PpoOptions options = Small with { Iterations = 3, EvalEvery = 2, Filter = "br" };
        await PpoTrainer.RunAsync(Inputs("straight"), options, CPU, ScalarType.Float32);
        PpoResult stopped = await PpoTrainer.RunAsync(Inputs("resumed"), options with { StopAfterIterations = 1 }, CPU, ScalarType.Float32);
        Assert.False(stopped.Completed);
        PpoResult resumed = await PpoTrainer.RunAsync(Inputs("resumed"), options, CPU, ScalarType.Float32, ResumeMode.Resume);
        Assert.True(resumed.Completed);

        foreach (string folder in new[] { PpoTrainer.FinalFolder, PpoTrainer.CriticFolder })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Run("straight"), folder, "model.safetensors")),
                File.ReadAllBytes(Path.Combine(fixture.Run("resumed"), folder, "model.safetensors")));
        }
        static string WithoutTimes(JsonElement line) => JsonSerializer.Serialize(line.EnumerateObject()
            .Where(p => p.Name is not ("seconds" or "memory_mb" or "live_tensors" or "update_tokens_per_s"))
            .ToDictionary(p => p.Name, p => p.Value));
        Assert.Equal(Metrics(fixture.Run("straight")).Select(WithoutTimes), Metrics(fixture.Run("resumed")).Select(WithoutTimes));
    }

    [Fact]
    public async Task DropModeTrainsOnlyTheKeptResponsesAndWeightModeTrainsEveryResponse()
    {
        PpoResult drop = await PpoTrainer.RunAsync(Inputs("drop-bw"), Small with { Filter = "bw", Iterations = 1 }, CPU, ScalarType.Float32);
        Assert.Equal(8, Metrics(drop.OutputDirectory)[0].GetProperty("samples_trained").GetInt32()); // best and worst of 4 groups

        PpoResult weight = await PpoTrainer.RunAsync(Inputs("weight-br"), Small with { Filter = "br", Mode = FiltrationMode.Weight, Iterations = 1 },
            CPU, ScalarType.Float32);
        Assert.Equal(12, Metrics(weight.OutputDirectory)[0].GetProperty("samples_trained").GetInt32()); // br gives every response weight > 0 at N = 3
    }

    [Fact]
    public async Task PpoSSamplesNTimesThePromptsWithOneResponseEach()
    {
        PpoResult result = await PpoTrainer.RunAsync(Inputs("ppo-s"), Small with { Algorithm = PpoAlgorithm.PpoS, Iterations = 1 }, CPU, ScalarType.Float32);
        IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(Path.Combine(result.OutputDirectory, PpoTrainer.RolloutsFolder, "iteration-0001.jsonl"));
        Assert.Equal(12, samples.Count);
        Assert.Equal(12, samples.Select(s => s.Group).Distinct().Count());
        Assert.All(samples, s => Assert.Equal(0, s.Sample));
    }

    [Fact]
    public async Task GrpoTrainsWithoutACriticAndWithTheKlAsALoss()
    {
        PpoResult result = await PpoTrainer.RunAsync(Inputs("grpo"), Small with { Algorithm = PpoAlgorithm.Grpo, KlEstimator = KlEstimator.K3, Iterations = 1 },
            CPU, ScalarType.Float32);
        Assert.True(result.Completed);
        Assert.False(Directory.Exists(Path.Combine(result.OutputDirectory, PpoTrainer.CriticFolder)));
        JsonElement line = Metrics(result.OutputDirectory)[0];
        Assert.False(line.TryGetProperty("value_loss", out _));
        Assert.Equal(0.0, line.GetProperty("first_ratio_deviation").GetDouble());
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.OutputDirectory, PpoTrainer.ConfigFile)));
        Assert.True(config.RootElement.GetProperty("kl_as_loss").GetBoolean());
    }

    [Theory]
    [InlineData(PpoAlgorithm.Ppo)]
    [InlineData(PpoAlgorithm.Grpo)]
    public async Task AnUpdateMakesTheResponsesWithHigherRewardsMoreLikely(PpoAlgorithm algorithm)
    {
        // One iteration, several epochs, no KL; the critic starts with a near-zero head, so PPO's advantages are close to the
        // whitened rewards, and GRPO's are the group-normalised rewards. Afterwards the log-likelihood of each response must
        // have moved with its reward: up for the better responses of a prompt, down for the worse.
        PpoOptions options = Small with
        {
            Algorithm = algorithm, Iterations = 1, PromptsPerIteration = 8, SamplesPerPrompt = 4, MiniBatchSize = 8, Epochs = 4,
            ActorLearningRate = 1e-3, KlCoefficient = 0, EvalLimit = 1, Lambda = 1.0,
        };
        PpoResult result = await PpoTrainer.RunAsync(Inputs("direction-" + algorithm) with { Critic = fixture.Policy }, options, CPU, ScalarType.Float32);
        IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(Path.Combine(result.OutputDirectory, PpoTrainer.RolloutsFolder, "iteration-0001.jsonl"));
        double[] before = SequenceLogprobs(fixture.Policy, samples);
        double[] after = SequenceLogprobs(Path.Combine(result.OutputDirectory, PpoTrainer.FinalFolder), samples);
        double agreement = 0;
        foreach (IGrouping<int, int> group in Enumerable.Range(0, samples.Count).GroupBy(i => samples[i].Group))
        {
            double mean = group.Average(i => samples[i].Reward!.Value);
            agreement += group.Sum(i => (samples[i].Reward!.Value - mean) * (after[i] - before[i]));
        }
        Assert.True(agreement > 0, $"Σ (reward - group mean) · Δ log π = {agreement}");
    }

    /// <summary>log π(response | prompt) summed over the response tokens, under the checkpoint in <paramref name="dir"/>.</summary>
    private double[] SequenceLogprobs(string dir, IReadOnlyList<ScoredSample> samples)
    {
        using CausalLM model = HfCheckpoint.LoadCausalLM(dir);
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(dir, HfCheckpoint.TokenizerFile));
        Dictionary<string, Problem> problems = ProblemSet.Load(fixture.Train).Problems.ToDictionary(p => p.TaskId);
        TokenSequence[] sequences = samples.Select(s => new TokenSequence(RolloutPrompt.For(problems[s.TaskId], tokenizer).Tokens, s.Tokens)).ToArray();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        TokenBatch batch = TokenBatch.Collate(sequences, model.Config.PadTokenId ?? 0, Padding.Right);
        return TokenLogprobs.Compute(model, batch).sum(1).to(ScalarType.Float64).data<double>().ToArray();
    }

    [Fact]
    public async Task AutoWritesItsChoiceAndReasonAndResumeKeepsIt()
    {
        // The random policy passes nothing, so no strategy has a defined R² here: auto says so and filters nothing.
        PpoResult result = await PpoTrainer.RunAsync(Inputs("auto"), Small with { Filter = "auto", Iterations = 1, CalibrationPrompts = 8 }, CPU, ScalarType.Float32);
        using JsonDocument filter = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.OutputDirectory, PpoTrainer.FilterFile)));
        Assert.Equal(result.Filter, filter.RootElement.GetProperty("chosen").GetString());
        Assert.Equal("none", result.Filter);
        Assert.Contains("no candidate had a defined binned R²", filter.RootElement.GetProperty("reason").GetString());
        Assert.Equal(24, ScoredSamples.Read(Path.Combine(result.OutputDirectory, "calibration_samples.jsonl")).Count);

        // A quantile threshold is resolved on the calibration rollout's rewards.
        PpoResult top = await PpoTrainer.RunAsync(Inputs("top-q"), Small with { Filter = "top:q0.5", Iterations = 1, CalibrationPrompts = 8 }, CPU, ScalarType.Float32);
        Assert.Matches(@"^top:-?[0-9.E-]+$", top.Filter);
    }

    [Fact]
    public async Task BadInputsAreRefusedNamingWhatIsWrong()
    {
        using var temp = new TempDirectory();
        string noStats = temp["rm-no-stats"];
        CopyDirectory(fixture.RewardModelDir, noStats);
        string config = Path.Combine(noStats, HfCheckpoint.ConfigFile);
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"reward_mean\"", "\"unused_mean\""));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
            PpoTrainer.RunAsync(Inputs("bad") with { RewardModel = noStats }, Small, CPU, ScalarType.Float32));
        Assert.Contains("reward_mean", e.Message);
        Assert.Contains(config, e.Message);

        var nan = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            PpoTrainer.RunAsync(Inputs("bad2"), Small with { Epochs = 0 }, CPU, ScalarType.Float32));
        Assert.Contains("Epochs must be at least 1", nan.Message);

        await PpoTrainer.RunAsync(Inputs("other"), Small with { Iterations = 1 }, CPU, ScalarType.Float32);
        var refused = await Assert.ThrowsAsync<RunFolderException>(() =>
            PpoTrainer.RunAsync(Inputs("other"), Small with { Iterations = 1, ActorLearningRate = 2e-3 }, CPU, ScalarType.Float32, ResumeMode.Resume));
        Assert.Contains("ActorLearningRate", refused.Message);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}

[CollectionDefinition(nameof(PpoCollection))]
public sealed class PpoCollection : ICollectionFixture<PpoFixture>;
