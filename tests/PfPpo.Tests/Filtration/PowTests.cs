using PfPpo.Filtration;

namespace PfPpo.Tests.Filtration;

public class PowTests
{
    private static readonly RewardGroup[] Buffer = [new("group 0 (A)", [-1.0, 0.0, 1.0]), new("group 1 (B)", [3.0, 2.0])];

    [Fact]
    public void InclusionIsAbsNormalisedRewardToTheK()
    {
        // min -1, max 3: R' = (R + 1) / 2 - 1 -> -1, -0.5, 0, 1, 0.5.
        IReadOnlyList<IReadOnlyList<double>> pi = new Pow(2).Inclusion(Buffer);
        Assert.Equal([1.0, 0.25, 0.0], pi[0]);
        Assert.Equal([1.0, 0.25], pi[1]);
        IReadOnlyList<IReadOnlyList<double>> cubic = new Pow(3).Inclusion(Buffer);
        Assert.Equal([1.0, 0.125, 0.0], cubic[0]);
        Assert.Equal([1.0, 0.125], cubic[1]);
    }

    [Fact]
    public void ResamplingKeepsEachResponseWithItsProbability()
    {
        var pow = new Pow(1);
        var rng = new Random(11);
        const int draws = 10_000;
        int[] counts = new int[5];
        for (int d = 0; d < draws; d++)
        {
            IReadOnlyList<Filtered> result = pow.ApplyToBuffer(Buffer, rng);
            Assert.Equal(2, result.Count);
            Assert.Equal([1.0, 0.5, 0.0], result[0].Weights);
            Assert.Equal([1.0, 0.5], result[1].Weights);
            foreach (int i in result[0].Kept)
            {
                counts[i]++;
            }
            foreach (int i in result[1].Kept)
            {
                counts[3 + i]++;
            }
        }
        Assert.Equal(draws, counts[0]);
        Assert.Equal(0, counts[2]);
        Assert.Equal(draws, counts[3]);
        double sigma = Math.Sqrt(draws * 0.25);
        Assert.InRange(counts[1], draws / 2 - 5 * sigma, draws / 2 + 5 * sigma);
        Assert.InRange(counts[4], draws / 2 - 5 * sigma, draws / 2 + 5 * sigma);
    }

    [Fact]
    public void NormalisationIsOverTheBufferNotTheGroup()
    {
        // Group 1 alone would span [-1, 1]; inside the buffer its rewards sit in the middle and are rarely kept.
        RewardGroup[] buffer = [new("g0", [-10.0, 10.0]), new("g1", [-1.0, 1.0])];
        IReadOnlyList<IReadOnlyList<double>> pi = new Pow(1).Inclusion(buffer);
        Assert.Equal([1.0, 1.0], pi[0]);
        Assert.Equal([0.1, 0.1], pi[1].Select(p => Math.Round(p, 12)));
    }

    [Fact]
    public void ConstantBufferKeepsEverythingAndEmptyBufferIsEmpty()
    {
        IReadOnlyList<Filtered> result = new Pow(2).ApplyToBuffer([new("g0", [0.5, 0.5]), new("g1", [0.5])], new Random(1));
        Assert.Equal([0, 1], result[0].Kept);
        Assert.Equal([0], result[1].Kept);
        Assert.Equal([1.0, 1.0], result[0].Weights);
        Assert.Empty(new Pow(2).ApplyToBuffer([], new Random(1)));
    }

    [Fact]
    public void NonFiniteRewardsNameTheGroup()
    {
        var e = Assert.Throws<NonFiniteRewardException>(() =>
            new Pow(1).ApplyToBuffer([new("group 0 (A)", [1.0]), new("group 1 (B)", [0.0, double.NaN])], new Random(1)));
        Assert.Contains("group 1 (B)", e.Message);
        Assert.Contains("sample 1", e.Message);
        Assert.Throws<ArgumentException>(() => new Pow(1).ApplyToBuffer([new("group 0 (A)", [])], new Random(1)));
    }

    [Fact]
    public void SameSeedSameResample()
    {
        var a = new Pow(1).ApplyToBuffer(Buffer, new Random(4));
        var b = new Pow(1).ApplyToBuffer(Buffer, new Random(4));
        Assert.Equal(a.Select(f => string.Join(",", f.Kept)), b.Select(f => string.Join(",", f.Kept)));
    }
}
