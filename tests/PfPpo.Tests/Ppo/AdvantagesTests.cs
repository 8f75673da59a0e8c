using PfPpo.Ppo;

namespace PfPpo.Tests.Ppo;

public class AdvantagesTests
{
    [Fact]
    public void GaeWithLambdaOneIsTheRewardToGoMinusTheValue()
    {
        float[] rewards = [0.1f, -0.2f, 1.0f];
        float[] values = [0.5f, 0.3f, 0.2f];
        (float[] advantages, float[] returns) = Advantages.Gae(rewards, values, gamma: 1.0, lambda: 1.0);
        Assert.Equal(new[] { 0.9f, 0.8f, 1.0f }, returns, new Tolerance(1e-6f));
        Assert.Equal(new[] { 0.4f, 0.5f, 0.8f }, advantages, new Tolerance(1e-6f));
    }

    [Fact]
    public void GaeWithLambdaZeroIsTheOneStepTdError()
    {
        float[] rewards = [0.0f, 0.0f, 1.0f];
        float[] values = [0.5f, 0.25f, 0.75f];
        (float[] advantages, _) = Advantages.Gae(rewards, values, gamma: 0.9, lambda: 0.0);
        // δ_t = r_t + γ V_{t+1} - V_t, V_3 = 0
        Assert.Equal(new[] { 0.9f * 0.25f - 0.5f, 0.9f * 0.75f - 0.25f, 1.0f - 0.75f }, advantages, new Tolerance(1e-6f));
    }

    [Fact]
    public void GaeMatchesTheRecursionForGeneralGammaAndLambda()
    {
        var rng = new Random(3);
        float[] rewards = Enumerable.Range(0, 7).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] values = Enumerable.Range(0, 7).Select(_ => (float)rng.NextDouble()).ToArray();
        (float[] advantages, float[] returns) = Advantages.Gae(rewards, values, 0.95, 0.8);
        for (int t = 0; t < 7; t++)
        {
            // A_t = Σ_l (γλ)^l δ_{t+l}
            double expected = 0;
            for (int l = 0; t + l < 7; l++)
            {
                double next = t + l + 1 < 7 ? values[t + l + 1] : 0;
                expected += Math.Pow(0.95 * 0.8, l) * (rewards[t + l] + 0.95 * next - values[t + l]);
            }
            Assert.Equal(expected, advantages[t], 5);
            Assert.Equal(expected + values[t], returns[t], 5);
        }
    }

    [Fact]
    public void WhiteningUsesOnlyTheWeightedTokens()
    {
        float[][] advantages = [[1f, 3f], [5f], [100f]];
        (double mean, double std) = Advantages.Whiten(advantages, [1.0, 1.0, 0.0]);
        Assert.Equal(3.0, mean, 10);
        Assert.Equal(Math.Sqrt(8.0 / 3.0), std, 10);
        double[] kept = advantages.Take(2).SelectMany(a => a).Select(a => (double)a).ToArray();
        Assert.Equal(0.0, kept.Average(), 5);
        Assert.Equal(1.0, Math.Sqrt(kept.Average(a => a * a)), 5);
        Assert.Equal((100 - 3) / Math.Sqrt(8.0 / 3.0), advantages[2][0], 3); // shifted too, though it does not train
    }

    [Fact]
    public void GroupNormalisedAdvantagesHaveZeroMeanAndUnitSpreadAndAConstantGroupGivesZeros()
    {
        double[] a = Advantages.GroupNormalised([1.0, 2.0, 3.0, 6.0]);
        Assert.Equal(0.0, a.Average(), 10);
        Assert.Equal(1.0, Math.Sqrt(a.Average(x => x * x)), 5);
        Assert.True(a[3] > a[2] && a[2] > a[1] && a[1] > a[0]);
        Assert.All(Advantages.GroupNormalised([0.5, 0.5, 0.5]), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void ExplainedVarianceIsOneForPerfectValuesAndZeroForTheMean()
    {
        float[][] returns = [[1f, 2f], [3f]];
        Assert.Equal(1.0, Advantages.ExplainedVariance(returns, returns), 10);
        Assert.Equal(0.0, Advantages.ExplainedVariance([[2f, 2f], [2f]], returns), 10);
        Assert.True(double.IsNaN(Advantages.ExplainedVariance([[0f]], [[1f]])));
    }

    private sealed class Tolerance(float epsilon) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= epsilon;

        public int GetHashCode(float obj) => 0;
    }
}
