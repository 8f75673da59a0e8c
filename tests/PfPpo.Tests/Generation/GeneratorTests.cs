using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Tests.Model;
using PfPpo.Tests.Tokenization;
using PfPpo.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using Generator = PfPpo.Generation.Generator;

namespace PfPpo.Tests.Generation;

public class GeneratorTests
{
    private static readonly IReadOnlyList<int>[] Prompts = [[3, 4, 5, 6, 7], [9, 10], [11, 12, 13]];

    [Fact]
    public void NoSampleRunsPastTheContextLengthWhateverItsBatch()
    {
        ModelConfig config = TestModels.Tiny() with { MaxPositionEmbeddings = 12 };
        using CausalLM model = TestModels.Create(config);
        var options = new SamplingOptions { Temperature = 1.0, MaxNewTokens = int.MaxValue, NumSamples = 2, Seed = 3, EosTokenIds = [] };
        var together = new Generator(model).Generate(Prompts, options);
        var alone = new Generator(model).Generate(Prompts, options with { MicroBatchSize = 1 });
        foreach (GeneratedSample sample in together)
        {
            Assert.Equal(12 - Prompts[sample.PromptIndex].Count, sample.TokenIds.Length);
            Assert.Equal(FinishReason.Length, sample.FinishReason);
        }
        Assert.Equal(together.Select(s => s.TokenIds), alone.Select(s => s.TokenIds));

        var full = Assert.Throws<ArgumentException>(() => new Generator(model).Generate([Enumerable.Range(3, 12).ToArray()], options));
        Assert.Contains("max_position_embeddings 12", full.Message);
    }

    [Fact]
    public void GreedyMatchesStepwiseArgmaxWithAndWithoutTheCacheInALeftPaddedBatch()
    {
        using var model = TestModels.Create(TestModels.Tiny("llama", ropeScaling: TestModels.Llama3Scaling));
        var options = new SamplingOptions { Temperature = 0, MaxNewTokens = 6, EosTokenIds = [] };
        var cached = new Generator(model).Generate(Prompts, options);
        var uncached = new Generator(model).Generate(Prompts, options with { UseKvCache = false });
        for (int p = 0; p < Prompts.Length; p++)
        {
            // Reference: the prompt alone, full recomputation, argmax at each step.
            var ids = Prompts[p].Select(i => (long)i).ToList();
            var expectedLogprobs = new List<float>();
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                for (int step = 0; step < 6; step++)
                {
                    Tensor last = model.forward(TestModels.Ids([.. ids]), null)[0, -1];
                    long best = last.argmax().item<long>();
                    expectedLogprobs.Add(last.log_softmax(-1)[best].item<float>());
                    ids.Add(best);
                }
            }
            int[] expected = ids.Skip(Prompts[p].Count).Select(i => (int)i).ToArray();
            Assert.Equal(expected, cached[p].TokenIds);
            Assert.Equal(expected, uncached[p].TokenIds);
            Assert.Equal(FinishReason.Length, cached[p].FinishReason);
            for (int i = 0; i < 6; i++)
            {
                Assert.True(Math.Abs(expectedLogprobs[i] - cached[p].Logprobs[i]) < 1e-5);
                Assert.True(Math.Abs(expectedLogprobs[i] - uncached[p].Logprobs[i]) < 1e-5);
            }
        }
    }

    [Fact]
    public void SamplingIsSeededAndIndependentOfMicroBatchSize()
    {
        using var model = TestModels.Create(TestModels.Tiny("qwen2", tied: true));
        var options = new SamplingOptions { Temperature = 1.0, MaxNewTokens = 8, NumSamples = 4, Seed = 42, EosTokenIds = [] };
        var big = new Generator(model).Generate(Prompts, options);
        var small = new Generator(model).Generate(Prompts, options with { MicroBatchSize = 1 });
        var uncached = new Generator(model).Generate(Prompts, options with { MicroBatchSize = 5, UseKvCache = false });
        Assert.Equal(12, big.Count);
        for (int i = 0; i < big.Count; i++)
        {
            Assert.Equal((i / 4, i % 4), (big[i].PromptIndex, big[i].SampleIndex));
            Assert.Equal(big[i].TokenIds, small[i].TokenIds);
            Assert.Equal(big[i].TokenIds, uncached[i].TokenIds);
            Assert.True(big[i].Logprobs.Zip(small[i].Logprobs).All(x => Math.Abs(x.First - x.Second) < 1e-5));
        }
        // Samples of one prompt differ from each other, and another seed gives other samples.
        Assert.True(big.Take(4).Select(s => string.Join(",", s.TokenIds)).Distinct().Count() > 1);
        var other = new Generator(model).Generate(Prompts, options with { Seed = 43 });
        Assert.NotEqual(big.Select(s => string.Join(",", s.TokenIds)), other.Select(s => string.Join(",", s.TokenIds)));
    }

    [Theory]
    [InlineData(0.7, 3, 1.0)]
    [InlineData(1.3, 0, 0.8)]
    [InlineData(1.0, 5, 0.6)]
    [InlineData(1.0, 0, 1.0)]
    public void LogprobsAreOfTheDistributionTheTokenWasDrawnFrom(double temperature, int topK, double topP)
    {
        using var model = TestModels.Create(TestModels.Tiny("llama"));
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MaxNewTokens = 6, NumSamples = 3, Seed = 5, EosTokenIds = [] };
        foreach (GeneratedSample sample in new Generator(model).Generate(Prompts, options))
        {
            long[] ids = [.. Prompts[sample.PromptIndex].Select(i => (long)i), .. sample.TokenIds.Select(i => (long)i)];
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            Tensor logits = model.forward(TestModels.Ids(ids), null)[0];                     // [T, V]
            int start = Prompts[sample.PromptIndex].Count - 1;
            for (int i = 0; i < sample.TokenIds.Length; i++)
            {
                // Reference, in doubles: softmax(logits / T), keep the top k, then the smallest head reaching top_p, renormalise.
                double[] scaled = logits[start + i].data<float>().Select(l => l / temperature).ToArray();
                double max = scaled.Max();
                double[] p = scaled.Select(l => Math.Exp(l - max)).ToArray();
                int[] ranked = Enumerable.Range(0, p.Length).OrderByDescending(j => p[j]).ToArray();
                var kept = new HashSet<int>();
                double total = p.Sum(), mass = 0;
                foreach (int j in ranked.Take(topK > 0 ? topK : p.Length))
                {
                    kept.Add(j);
                    mass += p[j];
                }
                double keptMass = 0;
                var nucleus = new HashSet<int>();
                foreach (int j in ranked.Where(kept.Contains))
                {
                    if (keptMass / mass >= topP)
                    {
                        break;
                    }
                    nucleus.Add(j);
                    keptMass += p[j];
                }
                int token = sample.TokenIds[i];
                Assert.Contains(token, nucleus);
                double expected = Math.Log(p[token] / keptMass);
                Assert.True(Math.Abs(expected - sample.Logprobs[i]) < 1e-4, $"logprob {sample.Logprobs[i]} vs {expected} (total {total})");
            }
        }
    }

    [Fact]
    public void TopKOfOneReportsCertainty()
    {
        using var model = TestModels.Create(TestModels.Tiny("qwen2"));
        var samples = new Generator(model).Generate(Prompts, new SamplingOptions { Temperature = 1, TopK = 1, MaxNewTokens = 5, NumSamples = 2, EosTokenIds = [] });
        Assert.All(samples.SelectMany(s => s.Logprobs), l => Assert.True(Math.Abs(l) < 1e-6));
    }

    [Fact]
    public void TinyTopPIsGreedy()
    {
        using var model = TestModels.Create(TestModels.Tiny("qwen2"));
        var greedy = new Generator(model).Generate(Prompts, new SamplingOptions { Temperature = 0, MaxNewTokens = 5, EosTokenIds = [] });
        var nucleus = new Generator(model).Generate(Prompts, new SamplingOptions { Temperature = 1, TopP = 1e-6, MaxNewTokens = 5, Seed = 9, EosTokenIds = [] });
        Assert.Equal(greedy.Select(s => s.TokenIds), nucleus.Select(s => s.TokenIds));
    }

    [Fact]
    public void EosAndStopStringsEndSamplesAndCutTheText()
    {
        (CausalLM model, HfTokenizer tokenizer) = ChainModel();
        using (model)
        {
            var generator = new Generator(model, tokenizer);
            int Id(char c) => tokenizer.TokenToId(c.ToString())!.Value;

            var plain = generator.Generate(["a"], new SamplingOptions { Temperature = 0, MaxNewTokens = 6, EosTokenIds = [] })[0];
            Assert.Equal("bcdefg", plain.Text);
            Assert.Equal(FinishReason.Length, plain.FinishReason);
            Assert.All(plain.Logprobs, l => Assert.True(l <= 0 && l > -1e-3));

            var eos = generator.Generate(["a"], new SamplingOptions { Temperature = 0, MaxNewTokens = 10, EosTokenIds = [Id('e')] })[0];
            Assert.Equal("bcd", eos.Text);
            Assert.Equal([Id('b'), Id('c'), Id('d'), Id('e')], eos.TokenIds);
            Assert.Equal(4, eos.Logprobs.Length);
            Assert.Equal(FinishReason.Eos, eos.FinishReason);

            // Batched, with sampling: the stop string ends each row at its own step; the other rows go on.
            var stopped = generator.Generate(["a", "w", "xyz"], new SamplingOptions
            {
                Temperature = 1, MaxNewTokens = 8, NumSamples = 2, StopStrings = ["de", "ab"], EosTokenIds = [],
            });
            // No token of the stop string, nor any after it, is kept: the tokens are exactly the text's.
            Assert.Equal(["bc", "bc", "xyz", "xyz", "", ""], stopped.Select(s => s.Text));
            Assert.Equal([Id('b'), Id('c')], stopped[0].TokenIds);
            Assert.Equal([Id('x'), Id('y'), Id('z')], stopped[2].TokenIds);
            Assert.Empty(stopped[4].TokenIds);
            Assert.All(stopped, s => Assert.Equal(FinishReason.Stop, s.FinishReason));
            Assert.All(stopped, s => Assert.Equal(s.TokenIds.Length, s.Logprobs.Length));
            Assert.All(stopped, s => Assert.Equal(s.Text, tokenizer.Decode(s.TokenIds)));
        }
    }

    [Fact]
    public void GeneratesInAReducedPrecisionComputeDtype()
    {
        using var model = TestModels.Create(TestModels.Tiny("llama"));
        model.to(ScalarType.BFloat16);
        var samples = new Generator(model).Generate(Prompts, new SamplingOptions { Temperature = 1, MaxNewTokens = 5, NumSamples = 2, EosTokenIds = [] });
        Assert.All(samples, s => Assert.Equal(5, s.TokenIds.Length));
        Assert.All(samples.SelectMany(s => s.Logprobs), l => Assert.True(float.IsFinite(l) && l <= 0));
    }

    [Fact]
    public void InvalidRequestsAreRejectedClearly()
    {
        using var model = TestModels.Create(TestModels.Tiny());
        var generator = new Generator(model);
        var error = Assert.Throws<ArgumentException>(() => generator.Generate(Prompts, new SamplingOptions { Temperature = -1 }));
        Assert.Contains("Temperature", error.Message);
        error = Assert.Throws<ArgumentException>(() => generator.Generate([[1, 64]], new SamplingOptions()));
        Assert.Contains("token id 64", error.Message);
        Assert.Throws<ArgumentException>(() => generator.Generate([[]], new SamplingOptions()));
        Assert.Throws<InvalidOperationException>(() => generator.Generate(Prompts, new SamplingOptions { StopStrings = ["x"] }));
    }

    [Fact]
    public void IdsOfAPaddedVocabularyAreNeverSampled()
    {
        HfTokenizer tokenizer = TokenizerFixture.Qwen2().Load();
        int padded = (tokenizer.VocabSize + 63) / 64 * 64 + 64; // as init-model pads, and then some
        int Id(char c) => tokenizer.TokenToId(c.ToString())!.Value;
        using CausalLM model = ChainModels.Create(tokenizer, ChainModels.Alphabet(tokenizer), padded, favouredId: padded - 1);
        var greedy = new SamplingOptions { Temperature = 0, MaxNewTokens = 5, EosTokenIds = [] };
        var sampled = new SamplingOptions { Temperature = 2, MaxNewTokens = 5, NumSamples = 8, Seed = 3, EosTokenIds = [] };

        // The model itself prefers the padding id: a generator without a tokenizer (all model ids valid) picks it.
        Assert.Equal(padded - 1, new Generator(model).Generate([[Id('a')]], greedy)[0].TokenIds[0]);

        var generator = new Generator(model, tokenizer);
        Assert.Equal(tokenizer.VocabSize, generator.SampleableVocabSize);
        Assert.Equal("bcdef", generator.Generate(["a"], greedy)[0].Text);
        Assert.All(generator.Generate(["a", "q"], sampled).SelectMany(s => s.TokenIds), t => Assert.InRange(t, 0, tokenizer.VocabSize - 1));
        // Logprobs are of the distribution over the real vocabulary: the chain's successor is near certain there.
        Assert.All(generator.Generate(["a"], greedy)[0].Logprobs, l => Assert.True(l > -1e-3));
    }

    [Fact]
    public void AStopStringInsideATokenKeepsThatTokenWholeAndNothingAfterIt()
    {
        HfTokenizer tokenizer = TokenizerFixture.Qwen2().Merge("c", "d").Load();
        int Id(string t) => tokenizer.TokenToId(t)!.Value;
        // a -> b -> cd -> e -> f -> g: the stop string "de" starts inside the token "cd".
        (int, int)[] links = [(Id("a"), Id("b")), (Id("b"), Id("cd")), (Id("cd"), Id("e")), (Id("e"), Id("f")), (Id("f"), Id("g"))];
        using CausalLM model = ChainModels.Create(tokenizer, links, 320);
        var generator = new Generator(model, tokenizer);
        var options = new SamplingOptions { Temperature = 0, MaxNewTokens = 8, EosTokenIds = [] };

        Assert.Equal([Id("b"), Id("cd"), Id("e"), Id("f"), Id("g")], generator.Generate(["a"], options with { MaxNewTokens = 5 })[0].TokenIds);
        GeneratedSample straddled = generator.Generate(["a"], options with { StopStrings = ["de"] })[0];
        Assert.Equal(FinishReason.Stop, straddled.FinishReason);
        Assert.Equal([Id("b"), Id("cd")], straddled.TokenIds); // "e" completed the stop string: dropped; "cd" straddles: kept
        Assert.Equal("bcd", straddled.Text);                   // runs one character past the cut, exactly the tokens' text
        Assert.Equal(2, straddled.Logprobs.Length);

        GeneratedSample onBoundary = generator.Generate(["a"], options with { StopStrings = ["ef"] })[0];
        Assert.Equal([Id("b"), Id("cd")], onBoundary.TokenIds);
        Assert.Equal("bcd", onBoundary.Text);
        Assert.Equal(tokenizer.Decode(onBoundary.TokenIds), onBoundary.Text);
    }

    /// <summary>The chain model of <see cref="ChainModels"/> over the letters a..z (z to a).</summary>
    private static (CausalLM, HfTokenizer) ChainModel()
    {
        HfTokenizer tokenizer = TokenizerFixture.Qwen2().Load();
        return (ChainModels.Create(tokenizer, ChainModels.Alphabet(tokenizer), 320), tokenizer);
    }
}
