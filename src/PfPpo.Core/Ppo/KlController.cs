namespace PfPpo.Ppo;

/// <summary>How the KL penalty between the policy and the reference is estimated per token, from d = log π - log π_ref.</summary>
public enum KlEstimator
{
    /// <summary>k1 = d: unbiased, can be negative per token (the usual reward penalty).</summary>
    K1,

    /// <summary>k3 = exp(-d) + d - 1: unbiased and never negative (GRPO's KL loss).</summary>
    K3,
}

/// <summary>
/// The KL coefficient β: fixed, or adaptive (Ziegler et al. 2019): after each iteration
/// β ← β · (1 + clip(KL / target - 1, -0.2, 0.2) · n / horizon), with n the responses of the iteration.
/// </summary>
public sealed class KlController(double initial, double? target, double horizon)
{
    public double Coefficient { get; private set; } = initial;

    /// <summary>Updates β from the iteration's mean per-response KL (no change when fixed).</summary>
    public void Update(double kl, int responses)
    {
        if (target is double goal && double.IsFinite(kl))
        {
            double error = Math.Clamp(kl / goal - 1, -0.2, 0.2);
            Coefficient *= 1 + error * responses / horizon;
        }
    }

    /// <summary>Sets β back to a saved value (resume).</summary>
    public void Restore(double coefficient) => Coefficient = coefficient;
}
