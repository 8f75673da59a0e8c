using static TorchSharp.torch;

namespace PfPpo.Ppo;

/// <summary>What one mini-batch's policy loss measured (floats read once the step is done).</summary>
public sealed record PolicyLossStats(double Loss, double ClipFraction, double ApproxKl);

/// <summary>
/// The PPO objectives as tensor functions over [B, T] token tensors and a [B, T] token weight (the completion mask
/// times each response's loss weight: 1 in drop mode, its inclusion probability in weight mode). Every mean is a
/// token mean weighted by it.
/// </summary>
public static class PpoLoss
{
    /// <summary>Per-token KL estimate from log π and log π_ref ([B, T] each).</summary>
    public static Tensor Kl(Tensor logprobs, Tensor refLogprobs, KlEstimator estimator)
    {
        Tensor d = logprobs - refLogprobs;
        return estimator == KlEstimator.K1 ? d : (-d).exp() + d - 1;
    }

    /// <summary>Σ w x / Σ w.</summary>
    public static Tensor WeightedMean(Tensor x, Tensor weights) => (x * weights).sum() / weights.sum().clamp_min(1e-8);

    /// <summary>
    /// The clipped surrogate: mean of max(-A ρ, -A clip(ρ, 1 - ε, 1 + ε)), ρ = exp(log π - log π_old). Also the clip
    /// fraction and the approximate KL mean((ρ - 1) - log ρ) (Schulman's k3 of the old policy to the new), without gradients.
    /// </summary>
    public static (Tensor Loss, Tensor ClipFraction, Tensor ApproxKl) Policy(Tensor logprobs, Tensor oldLogprobs, Tensor advantages,
        Tensor weights, double clip)
    {
        Tensor logRatio = logprobs - oldLogprobs;
        Tensor ratio = logRatio.exp();
        Tensor unclipped = -advantages * ratio;
        Tensor clipped = -advantages * ratio.clamp(1 - clip, 1 + clip);
        Tensor loss = WeightedMean(maximum(unclipped, clipped), weights);
        using var noGrad = no_grad();
        Tensor clipFraction = WeightedMean((ratio - 1).abs().gt(clip).to(ScalarType.Float32), weights);
        Tensor approxKl = WeightedMean(ratio - 1 - logRatio, weights);
        return (loss, clipFraction, approxKl);
    }

    /// <summary>
    /// The clipped value loss: 0.5 · mean(max((V - R)², (V_old + clip(V - V_old, -c, c) - R)²)); c = +∞ is the plain
    /// squared error.
    /// </summary>
    public static Tensor Value(Tensor values, Tensor oldValues, Tensor returns, Tensor weights, double clip)
    {
        Tensor unclipped = (values - returns).square();
        if (double.IsPositiveInfinity(clip))
        {
            return 0.5 * WeightedMean(unclipped, weights);
        }
        Tensor clippedValues = oldValues + (values - oldValues).clamp(-clip, clip);
        return 0.5 * WeightedMean(maximum(unclipped, (clippedValues - returns).square()), weights);
    }
}
