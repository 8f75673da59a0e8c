using PfPpo.Bond;
using static TorchSharp.torch;

namespace PfPpo.Tests.Bond;

public class BondObjectiveTests
{
    [Fact]
    public void TheEmpiricalCdfCountsTheScoresAtOrBelowEachOne()
    {
        Assert.Equal([0.5, 1.0, 0.25, 1.0], BondObjective.EmpiricalCdf([0.5, 2.0, -1, 2.0]));
        Assert.Equal([1.0], BondObjective.EmpiricalCdf([3.0]));
        Assert.Equal([1.0, 1.0, 1.0], BondObjective.EmpiricalCdf([7, 7, 7]));
        Assert.Throws<ArgumentException>(() => BondObjective.EmpiricalCdf([]));
    }

    [Fact]
    public void TheQuantileRewardIsNMinusOneTimesLogCdfAndDependsOnRanksOnly()
    {
        double[] q = BondObjective.QuantileRewards([0.5, 2.0, -1, 1.0]);
        Assert.Equal([3 * Math.Log(0.5), 0, 3 * Math.Log(0.25), 3 * Math.Log(0.75)], q, new Near(1e-12));
        Assert.Equal(0, q.Max()); // the best response: F̂ = 1
        Assert.Equal(3 * Math.Log(1.0 / 4), q.Min(), 12); // the worst: F̂ = 1/N
        // An affine change of the RM's scale changes nothing.
        Assert.Equal(q, BondObjective.QuantileRewards([10 * 0.5 - 3, 10 * 2.0 - 3, 10 * -1.0 - 3, 10 * 1.0 - 3]), new Near(1e-12));
    }

    [Fact]
    public void AdvantagesAreCentredPerPromptAndTheKlTermLowersThem()
    {
        using var scope = NewDisposeScope();
        Tensor q = tensor(new float[] { 0, -1, -2, 0, 0, 0 }).reshape(2, 3);
        Tensor rho = tensor(new float[] { 0, 0, 0, 1, 0, -1 }).reshape(2, 3);
        float[] a = BondObjective.Advantages(q, rho, klCoefficient: 0.5).data<float>().ToArray();
        Assert.Equal([1, 0, -1, -0.5f, 0, 0.5f], a, new NearF(1e-6f));
        Assert.Equal(0, BondObjective.Advantages(q, rho, 0).sum(1).abs().max().item<float>(), 6);
    }

    [Fact]
    public void TheBackwardTermsGradientRaisesTheLogProbOfHigherQuantileSamples()
    {
        using var scope = NewDisposeScope();
        double[] rewards = [1.0, 3.0, 2.0];
        Tensor logp = zeros(1, 3, requires_grad: true);
        Tensor q = tensor(BondObjective.QuantileRewards(rewards).Select(x => (float)x).ToArray()).reshape(1, 3);
        Tensor advantages = BondObjective.Advantages(q, zeros(1, 3), 1.0);
        BondObjective.Terms terms = BondObjective.Loss(logp, advantages, tensor(new long[] { 1 }), beta: 1.0);
        terms.Loss.backward();
        float[] grad = logp.grad!.data<float>().ToArray();
        // Gradient descent moves log π against the gradient: up for the best (index 1), down for the worst (index 0).
        Assert.True(grad[1] < 0, $"best: {grad[1]}");
        Assert.True(grad[0] > 0, $"worst: {grad[0]}");
        Assert.True(grad[1] < grad[2] && grad[2] < grad[0], string.Join(", ", grad));
        Assert.Equal(terms.Backward.item<float>(), terms.Loss.item<float>(), 6);
    }

    [Fact]
    public void TheForwardTermIsTheNllOfTheBestResponseAndBetaMixesTheTwo()
    {
        using var scope = NewDisposeScope();
        Tensor logp = tensor(new float[] { -1, -2, -3, -4, -5, -6 }).reshape(2, 3).requires_grad_(true);
        Tensor advantages = tensor(new float[] { 1, 0, -1, 0, 0, 0 }).reshape(2, 3);
        Tensor best = tensor(new long[] { 2, 0 });
        BondObjective.Terms forward = BondObjective.Loss(logp, advantages, best, beta: 0);
        Assert.Equal((3 + 4) / 2.0, forward.Loss.item<float>(), 5);
        forward.Loss.backward();
        Assert.Equal([0, 0, -0.5f, -0.5f, 0, 0], logp.grad!.data<float>().ToArray(), new NearF(1e-6f));

        BondObjective.Terms mixed = BondObjective.Loss(logp, advantages, best, beta: 0.25);
        Assert.Equal(0.75 * mixed.Forward.item<float>() + 0.25 * mixed.Backward.item<float>(), mixed.Loss.item<float>(), 5);
        Assert.Equal(-(1 * -1 + -1 * -3) / 6.0, mixed.Backward.item<float>(), 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => BondObjective.Loss(logp, advantages, best, beta: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BondObjective.Loss(logp, advantages, best, beta: 1.5));
    }

    private sealed class Near(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(double value) => 0;
    }

    private sealed class NearF(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(float value) => 0;
    }
}
