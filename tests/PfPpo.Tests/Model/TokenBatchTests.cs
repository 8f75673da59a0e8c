using PfPpo.Model;
using static TorchSharp.torch;

namespace PfPpo.Tests.Model;

public class TokenBatchTests
{
    private static readonly TokenSequence[] Pairs =
    [
        new([5, 6], [7, 8]),   // 4 tokens, 2 completion
        new([9], [10, 11]),    // 3 tokens
        new([12, 13, 14], []), // a bare prompt
    ];

    [Fact]
    public void RightPaddingPutsTokensFirstAndMarksOnlyCompletionTokens()
    {
        using var scope = NewDisposeScope();
        TokenBatch batch = TokenBatch.Collate(Pairs, padTokenId: 0, Padding.Right);
        Assert.Equal(4, batch.Length);
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10, 11, 0, 12, 13, 14, 0 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0 }, batch.AttentionMask.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0 }, batch.CompletionMask.data<float>().ToArray());
        Assert.Equal(new long[] { 3, 2, 2 }, batch.LastTokenIndex.data<long>().ToArray());
        Assert.Equal(new[] { 2, 1, 3 }, batch.PromptLengths);
        Assert.Equal(new[] { 4, 3, 3 }, batch.Lengths);
        Assert.Equal(4, batch.CompletionTokens);
        Assert.Null(batch.ModelMask);
        Assert.Equal(0, batch.Offset(1));
    }

    [Fact]
    public void LeftPaddingPutsTokensLastSoEveryRowEndsInTheLastColumn()
    {
        using var scope = NewDisposeScope();
        TokenBatch batch = TokenBatch.Collate(Pairs, padTokenId: 99, Padding.Left);
        Assert.Equal(new long[] { 5, 6, 7, 8, 99, 9, 10, 11, 99, 12, 13, 14 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1 }, batch.AttentionMask.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0 }, batch.CompletionMask.data<float>().ToArray());
        Assert.Equal(new long[] { 3, 3, 3 }, batch.LastTokenIndex.data<long>().ToArray());
        Assert.Same(batch.AttentionMask, batch.ModelMask);
        Assert.Equal(1, batch.Offset(1));
    }

    [Fact]
    public void AnEmptyBatchIsRefused()
    {
        Assert.Throws<ArgumentException>(() => TokenBatch.Collate([], 0, Padding.Right));
        Assert.Throws<ArgumentException>(() => TokenBatch.Collate([new TokenSequence([], [])], 0, Padding.Right));
    }
}
