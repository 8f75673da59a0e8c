using PfPpo.Benchmarks;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tests.Benchmarks;
using PfPpo.Tests.Model;
using PfPpo.Tests.Sandbox;
using PfPpo.Tests.Tokenization;
using PfPpo.Tokenization;

namespace PfPpo.Tests.Rollouts;

[Collection(SandboxCollection.Name)]
public class RolloutCollectorTests(SandboxFixture fixture)
{
    private static readonly HfTokenizer Tokenizer = TokenizerFixture.Qwen2().Load();

    /// <summary>Problems of three formats (completion and whole-program prompts).</summary>
    private static IReadOnlyList<Problem> Problems() =>
        new[] { "humaneval.jsonl", "mbpp.jsonl", "structured.jsonl" }.SelectMany(f => ProblemSet.Load(TestData.PathOf(f)).Problems).ToArray();

    private static CausalLM Model() => TestModels.Create(TestModels.Tiny("qwen2") with { VocabSize = 320, EosTokenIds = [], MaxPositionEmbeddings = 1024 }); // prompts reach 348 tokens

    private static RolloutOptions Options(int promptsPerChunk, int microBatch) => new()
    {
        Sampling = new SamplingOptions
        {
            Temperature = 1, NumSamples = 3, MaxNewTokens = 10, Seed = 17, MicroBatchSize = microBatch, EosTokenIds = [],
            StopStrings = EvalPrompt.StopStrings,
        },
        PromptsPerChunk = promptsPerChunk,
    };

    [Fact]
    public async Task SamplesDependOnTheSeedAndPromptIndexOnlyNotOnChunkOrMicroBatchSize()
    {
        using CausalLM model = Model();
        var collector = new RolloutCollector(model, Tokenizer, fixture.Scorer);
        RolloutPrompt[] prompts = Problems().Select(p => RolloutPrompt.For(p, Tokenizer)).ToArray();
        RolloutBatch whole = await collector.CollectAsync(prompts, Options(promptsPerChunk: 64, microBatch: 64));
        RolloutBatch chunked = await collector.CollectAsync(prompts, Options(promptsPerChunk: 2, microBatch: 4));
        RolloutBatch single = await collector.CollectAsync(prompts, Options(promptsPerChunk: 1, microBatch: 1));
        foreach (RolloutBatch other in new[] { chunked, single })
        {
            Assert.Equal(whole.Groups.Count, other.Groups.Count);
            for (int g = 0; g < whole.Groups.Count; g++)
            {
                for (int s = 0; s < 3; s++)
                {
                    RolloutSample a = whole.Groups[g].Samples[s], b = other.Groups[g].Samples[s];
                    Assert.Equal(a.TokenIds, b.TokenIds);
                    Assert.Equal(a.Completion, b.Completion);
                    Assert.Equal(a.FinishReason, b.FinishReason);
                    Assert.Equal(a.Score.Status, b.Score.Status);
                    // fp32 sums in another batch shape: equal to float precision (relative 1e-5), tokens exactly.
                    Assert.All(a.Logprobs.Zip(b.Logprobs), x => Assert.True(Math.Abs(x.First - x.Second) <= 1e-5 * Math.Max(1, Math.Abs(x.First)), $"{x.First} vs {x.Second}"));
                }
            }
        }
        // The samples do vary (within a prompt and across prompts), and another seed gives others.
        string Key(RolloutBatch batch) => string.Join("|", batch.Groups.SelectMany(g => g.Samples).Select(s => string.Join(",", s.TokenIds)));
        Assert.True(whole.Groups[0].Samples.Select(s => string.Join(",", s.TokenIds)).Distinct().Count() > 1);
        RolloutBatch reseeded = await collector.CollectAsync(prompts, Options(64, 64) with { Sampling = Options(64, 64).Sampling with { Seed = 18 } });
        Assert.NotEqual(Key(whole), Key(reseeded));
    }

    [Fact]
    public async Task GroupsHoldEachPromptsSamplesWithTheirScoresTokensAndTimings()
    {
        using CausalLM model = Model();
        IReadOnlyList<Problem> problems = Problems();
        RolloutPrompt[] prompts = problems.Select(p => RolloutPrompt.For(p, Tokenizer)).ToArray();
        var reports = new List<RolloutProgress>();
        RolloutBatch batch = await new RolloutCollector(model, Tokenizer, fixture.Scorer)
            .CollectAsync(prompts, Options(promptsPerChunk: 3, microBatch: 8), new SynchronousProgress<RolloutProgress>(p => { lock (reports) { reports.Add(p); } }));

        Assert.Equal(problems.Count, batch.Groups.Count);
        for (int g = 0; g < problems.Count; g++)
        {
            RolloutGroup group = batch.Groups[g];
            EvalPrompt prompt = EvalPrompt.For(problems[g]);
            Assert.Equal(g, group.PromptIndex);
            Assert.Equal(problems[g].TaskId, group.TaskId);
            Assert.Equal(prompt.Kind, group.Kind);
            Assert.Equal(Tokenizer.Encode(prompt.Text), group.PromptTokens);
            Assert.Equal([0, 1, 2], group.Samples.Select(s => s.SampleIndex));
            foreach (RolloutSample sample in group.Samples)
            {
                Assert.Equal(problems[g].TaskId, sample.Score.TaskId);
                Assert.Equal(prompt.Code(sample.Completion), sample.Code);
                Assert.Equal(sample.TokenIds.Length, sample.Logprobs.Length);
                Assert.Equal(Tokenizer.Decode(sample.TokenIds), sample.Completion); // no EOS ids here: the text is the tokens'
                Assert.All(sample.Logprobs, l => Assert.True(l <= 0 && float.IsFinite(l)));
            }
        }
        // A random model's code fails; the score is the sandbox's verdict on exactly that code.
        RolloutSample first = batch.Groups[0].Samples[0];
        SampleResult direct = await fixture.Scorer.ScoreOneAsync(new ScoreRequest(problems[0], first.Code, batch.Groups[0].Kind));
        Assert.Equal(direct.Status, first.Score.Status);
        Assert.Equal(batch.Groups.SelectMany(g => g.Samples).Sum(s => (long)s.TokenIds.Length), batch.GeneratedTokens);
        Assert.True(batch.GenerationSeconds > 0 && batch.SandboxSeconds > 0 && batch.TotalSeconds >= batch.GenerationSeconds);
        Assert.True(batch.SandboxSeconds <= batch.TotalSeconds, $"sandbox {batch.SandboxSeconds} s of a {batch.TotalSeconds} s collection");
        Assert.Contains(reports, r => r.Scored == problems.Count && r.Generated == problems.Count && r.Total == problems.Count);
        Assert.All(reports, r => Assert.True(r.Scored <= r.Generated && r.Generated <= r.Total, r.ToString()));
    }

    [Fact]
    public void SandboxTimeCountsOverlappingScoringCallsOnce()
    {
        Assert.Equal(0, RolloutCollector.UnionSeconds([]));
        // [0, 2] and [1, 3] overlap into [0, 3]; [2.5, 2.8] lies inside; [5, 6] stands alone.
        Assert.Equal(4.0, RolloutCollector.UnionSeconds([(1, 3), (5, 6), (0, 2), (2.5, 2.8)]), 12);
    }

    [Fact]
    public async Task ACancelledCollectionStops()
    {
        using CausalLM model = Model();
        RolloutPrompt[] prompts = Problems().Select(p => RolloutPrompt.For(p, Tokenizer)).ToArray();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new RolloutCollector(model, Tokenizer, fixture.Scorer).CollectAsync(prompts, Options(2, 4), cancellation: cancelled.Token));
    }
}
