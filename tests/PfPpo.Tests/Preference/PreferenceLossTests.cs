using PfPpo.Preference;
using static TorchSharp.torch;

namespace PfPpo.Tests.Preference;

/// <summary>The losses of PF-PPO.md section 7 against numbers computed by hand.</summary>
public class PreferenceLossTests
{
    private static Tensor T(params float[] values) => tensor(values);

    [Fact]
    public void DpoIsMinusLogSigmoidOfBetaTimesTheMargin()
    {
        using var scope = NewDisposeScope();
        // β Δρ = 0.1 and -0.1: (log(1 + e^-0.1) + log(1 + e^0.1)) / 2
        double loss = PreferenceLoss.Dpo(T(1.0f, -0.5f), T(0.0f, 0.5f), beta: 0.1).item<float>();
        Assert.Equal(0.6943966600735709, loss, 5);
    }

    [Fact]
    public void IpoRegressesTheMarginToOneOverTwoBeta()
    {
        using var scope = NewDisposeScope();
        // target 1/(2·0.25) = 2: ((1 - 2)² + (-1 - 2)²) / 2 = 5
        Assert.Equal(5.0, PreferenceLoss.Ipo(T(1.0f, -0.5f), T(0.0f, 0.5f), beta: 0.25).item<float>(), 5);
        Assert.Equal(0.0, PreferenceLoss.Ipo(T(3.0f), T(1.0f), beta: 0.25).item<float>(), 6);
    }

    [Fact]
    public void KtoWeighsDesirableAndUndesirableAroundTheReferencePoint()
    {
        using var scope = NewDisposeScope();
        // ρ_w = 2, ρ_l = -0.5, z = 0.5, β = 0.5, λ_D = 2, λ_U = 1:
        // (2 (1 - σ(0.5 · 1.5)) + (1 - σ(0.5 · 1.0))) / 2 responses
        double loss = PreferenceLoss.Kto(T(2.0f), T(-0.5f), tensor(0.5f), beta: 0.5, lambdaDesirable: 2, lambdaUndesirable: 1).item<float>();
        Assert.Equal(0.5095916352236798, loss, 5);
        // Defaults λ_D = λ_U = 1 through Of.
        double viaOf = PreferenceLoss.Of(PreferenceLossKind.Kto, T(2.0f), T(-0.5f), 0.5, tensor(0.5f)).item<float>();
        Assert.Equal(((1 - Sigmoid(0.75)) + (1 - Sigmoid(0.5))) / 2, viaOf, 5);
    }

    [Fact]
    public void KtoReferencePointIsTheMismatchedMeanClampedAtZeroWithoutGradient()
    {
        using var scope = NewDisposeScope();
        Tensor rho = tensor(new[] { 0.2f, 0.6f }, requires_grad: true);
        Tensor z = PreferenceLoss.KtoReferencePoint(rho);
        Assert.Equal(0.4, z.item<float>(), 6);
        Assert.False(z.requires_grad);
        Assert.Equal(0.0, PreferenceLoss.KtoReferencePoint(T(-1.0f, 0.4f)).item<float>(), 6);
    }

    [Fact]
    public void DpoGradientRaisesTheChosenAndLowersTheRejected()
    {
        using var scope = NewDisposeScope();
        Tensor chosen = tensor(new[] { 0.0f }, requires_grad: true), rejected = tensor(new[] { 0.0f }, requires_grad: true);
        PreferenceLoss.Dpo(chosen, rejected, 0.1).backward();
        Assert.True(chosen.grad!.item<float>() < 0); // descending the loss raises ρ_w
        Assert.True(rejected.grad!.item<float>() > 0);
        Assert.Equal(-0.05, chosen.grad!.item<float>(), 6); // -β σ(0) = -0.05
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
