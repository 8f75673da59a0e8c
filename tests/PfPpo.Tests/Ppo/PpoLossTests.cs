using PfPpo.Ppo;
using static TorchSharp.torch;

namespace PfPpo.Tests.Ppo;

public class PpoLossTests
{
    private static Tensor T(params float[] values) => tensor(values).unsqueeze(0);

    [Fact]
    public void AtRatioOneThePolicyLossIsMinusTheWeightedMeanAdvantage()
    {
        Tensor logp = T(-1f, -2f, -3f);
        (Tensor loss, Tensor clipFraction, Tensor approxKl) = PpoLoss.Policy(logp, logp, T(1f, -2f, 4f), T(1f, 1f, 0f), 0.2);
        Assert.Equal(0.5, loss.item<float>(), 6);      // -(1 - 2) / 2, the third token has weight 0
        Assert.Equal(0.0, clipFraction.item<float>());
        Assert.Equal(0.0, approxKl.item<float>());
    }

    [Fact]
    public void ARatioBeyondTheClipStopsTheGradientInTheDirectionOfTheAdvantage()
    {
        // Positive advantage, ratio e^0.5 > 1.2: clipped, no gradient. Negative advantage, same ratio: unclipped, gradient flows.
        foreach ((float advantage, bool flows) in new[] { (1f, false), (-1f, true) })
        {
            Tensor logp = T(-0.5f).requires_grad_(true);
            (Tensor loss, Tensor clipFraction, _) = PpoLoss.Policy(logp, T(-1f), T(advantage), T(1f), 0.2);
            loss.backward();
            Assert.Equal(flows, Math.Abs(logp.grad!.item<float>()) > 0);
            Assert.Equal(1.0, clipFraction.item<float>());
        }
    }

    [Fact]
    public void TheApproximateKlIsTheK3EstimateOfTheLogRatio()
    {
        (_, _, Tensor approxKl) = PpoLoss.Policy(T(-1f, -2f), T(-1.5f, -1.5f), T(0f, 0f), T(1f, 1f), 0.2);
        double expected = new[] { 0.5, -0.5 }.Average(d => Math.Exp(d) - 1 - d);
        Assert.Equal(expected, approxKl.item<float>(), 5);
    }

    [Fact]
    public void TheValueLossTakesTheWorseOfTheClippedAndUnclippedErrors()
    {
        // V moved from 0 to 1 with clip 0.2; return 1: unclipped error 0, clipped (0.2 - 1)^2 = 0.64 -> the max is 0.64.
        Tensor loss = PpoLoss.Value(T(1f), T(0f), T(1f), T(1f), 0.2);
        Assert.Equal(0.5 * 0.64, loss.item<float>(), 5);
        Assert.Equal(0.0, PpoLoss.Value(T(1f), T(0f), T(1f), T(1f), double.PositiveInfinity).item<float>(), 6);
    }

    [Fact]
    public void KlEstimatorsK1AndK3()
    {
        Tensor logp = T(-1f, -2f), refLogp = T(-1.5f, -1.5f);
        Assert.Equal(new[] { 0.5f, -0.5f }, PpoLoss.Kl(logp, refLogp, KlEstimator.K1).squeeze(0).data<float>().ToArray());
        float[] k3 = PpoLoss.Kl(logp, refLogp, KlEstimator.K3).squeeze(0).data<float>().ToArray();
        Assert.Equal(Math.Exp(-0.5) + 0.5 - 1, k3[0], 5);
        Assert.Equal(Math.Exp(0.5) - 0.5 - 1, k3[1], 5);
        Assert.All(k3, k => Assert.True(k >= 0));
    }

    [Fact]
    public void TheAdaptiveKlControllerMovesTowardItsTargetAndAFixedOneStays()
    {
        var adaptive = new KlController(0.1, target: 1.0, horizon: 100);
        adaptive.Update(kl: 3.0, responses: 10);     // error clipped to 0.2: β ← β (1 + 0.2 · 10 / 100)
        Assert.Equal(0.1 * 1.02, adaptive.Coefficient, 10);
        adaptive.Update(kl: 0.0, responses: 10);
        Assert.Equal(0.1 * 1.02 * 0.98, adaptive.Coefficient, 10);
        var fixedKl = new KlController(0.1, target: null, horizon: 100);
        fixedKl.Update(5.0, 10);
        Assert.Equal(0.1, fixedKl.Coefficient);
    }

    [Fact]
    public void PromptsOfAnIterationCoverEveryProblemOncePerPass()
    {
        int[] firstPass = Enumerable.Range(0, 5).SelectMany(i => PpoTrainer.PromptsFor(i, 4, 20, seed: 3)).ToArray();
        Assert.Equal(Enumerable.Range(0, 20), firstPass.Order());
        Assert.NotEqual(Enumerable.Range(0, 20), firstPass);
        Assert.Equal(PpoTrainer.PromptsFor(2, 4, 20, 3), PpoTrainer.PromptsFor(2, 4, 20, 3));
        int[] wrapping = PpoTrainer.PromptsFor(0, 30, 20, 3); // more prompts than problems: a second pass begins
        Assert.Equal(Enumerable.Range(0, 20), wrapping.Take(20).Order());
    }
}
