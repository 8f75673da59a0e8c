using PfPpo.Model;
using PfPpo.Tests.Model;
using PfPpo.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PfPpo.Tests.Training;

public class TokenLogprobsTests
{
    private static readonly TokenSequence[] Pairs =
    [
        new([3, 4, 5], [6, 7, 2]),
        new([8], [9, 10, 11, 12, 2]),
        new([13, 14, 15, 16], [2]),
    ];

    /// <summary>The direct computation: full [B, T, V] logits, log_softmax, gather; masked to completion tokens.</summary>
    private static Tensor Direct(CausalLM model, TokenBatch batch)
    {
        Tensor logits = model.forward(batch.InputIds, batch.ModelMask).to(ScalarType.Float32);          // [B, T, V]
        Tensor logp = logits[.., ..^1, ..].log_softmax(-1).gather(-1, batch.InputIds[.., 1..].unsqueeze(-1)).squeeze(-1); // [B, T-1]
        return cat([zeros(batch.BatchSize, 1), logp], 1) * batch.CompletionMask;
    }

    [Theory]
    [InlineData(Padding.Right, 1)]
    [InlineData(Padding.Right, 5)]
    [InlineData(Padding.Left, 1024)]
    public void ValuesAndGradientsMatchTheFullLogitsComputation(Padding padding, int chunkRows)
    {
        using var scope = NewDisposeScope();
        foreach (bool tied in new[] { false, true })
        {
            using CausalLM model = TestModels.Create(TestModels.Tiny(tied: tied));
            TokenBatch batch = TokenBatch.Collate(Pairs, padTokenId: 0, padding);
            Tensor weights = rand(batch.BatchSize, batch.Length);   // an arbitrary per-token loss weighting

            model.zero_grad();
            Tensor direct = Direct(model, batch);
            (direct * weights).sum().backward();
            var expected = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());

            model.zero_grad();
            Tensor chunked = TokenLogprobs.Compute(model, batch, chunkRows);
            (chunked * weights).sum().backward();

            Assert.True(TestModels.MaxDiff(direct, chunked) < 1e-5, $"values differ by {TestModels.MaxDiff(direct, chunked)}");
            Assert.Equal(0.0, (chunked * (1 - batch.CompletionMask)).abs().sum().item<float>());
            foreach ((string name, Parameter parameter) in model.named_parameters())
            {
                double diff = TestModels.MaxDiff(expected[name], parameter.grad!);
                Assert.True(diff < 1e-5, $"tied={tied}: gradient of {name} differs by {diff}");
            }
        }
    }

    [Fact]
    public void WithoutGradientsItNeedsNoGraphAndGivesTheSameValues()
    {
        using var scope = NewDisposeScope();
        using CausalLM model = TestModels.Create(TestModels.Tiny());
        TokenBatch batch = TokenBatch.Collate(Pairs, padTokenId: 0, Padding.Right);
        Tensor withGrad = TokenLogprobs.Compute(model, batch, 2).detach();
        using (no_grad())
        {
            Tensor without = TokenLogprobs.Compute(model, batch, 2);
            Assert.False(without.requires_grad);
            Assert.Equal(0.0, TestModels.MaxDiff(withGrad, without));
        }
    }
}
