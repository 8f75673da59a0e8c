using static TorchSharp.torch;

namespace PfPpo.Preference;

/// <summary>Which offline preference objective <see cref="PreferenceTrainer"/> optimises.</summary>
public enum PreferenceLossKind
{
    /// <summary>DPO: -log σ(β (ρ_w - ρ_l)).</summary>
    Dpo,

    /// <summary>IPO: (ρ_w - ρ_l - 1/(2β))².</summary>
    Ipo,

    /// <summary>KTO: λ_D (1 - σ(β (ρ_w - z))) for the chosen response, λ_U (1 - σ(β (z - ρ_l))) for the rejected one.</summary>
    Kto,
}

/// <summary>
/// The preference losses of PF-PPO.md section 7, on ρ(y) = Σ log π(y|x) - Σ log π_ref(y|x) over the response tokens.
/// Pure functions of [P] tensors (one entry per pair); each returns the batch mean as a scalar.
/// </summary>
public static class PreferenceLoss
{
    /// <summary>DPO: mean over pairs of -log σ(β (ρ_w - ρ_l)).</summary>
    public static Tensor Dpo(Tensor rhoChosen, Tensor rhoRejected, double beta)
    {
        using var scope = NewDisposeScope();
        return (-nn.functional.logsigmoid((rhoChosen - rhoRejected) * beta)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>IPO: mean over pairs of (ρ_w - ρ_l - 1/(2β))².</summary>
    public static Tensor Ipo(Tensor rhoChosen, Tensor rhoRejected, double beta)
    {
        using var scope = NewDisposeScope();
        return (rhoChosen - rhoRejected - 1.0 / (2.0 * beta)).square().mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KTO with the reference point <paramref name="z"/> (a scalar; see <see cref="KtoReferencePoint"/>): each pair gives one
    /// desirable response, loss λ_D (1 - σ(β (ρ_w - z))), and one undesirable, λ_U (1 - σ(β (z - ρ_l))); the mean over
    /// the 2P responses.
    /// </summary>
    public static Tensor Kto(Tensor rhoChosen, Tensor rhoRejected, Tensor z, double beta, double lambdaDesirable = 1.0, double lambdaUndesirable = 1.0)
    {
        using var scope = NewDisposeScope();
        Tensor desirable = (1 - ((rhoChosen - z) * beta).sigmoid()) * lambdaDesirable;
        Tensor undesirable = (1 - ((z - rhoRejected) * beta).sigmoid()) * lambdaUndesirable;
        return ((desirable.sum() + undesirable.sum()) / (2.0 * rhoChosen.shape[0])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KTO's z: the mean of ρ over responses paired with prompts they do not answer (a batch estimate of KL(π || π_ref)),
    /// clamped at 0 and detached, so no gradient flows through it.
    /// </summary>
    public static Tensor KtoReferencePoint(Tensor rhoMismatched)
    {
        using var scope = NewDisposeScope();
        return rhoMismatched.detach().mean().clamp_min(0).MoveToOuterDisposeScope();
    }

    /// <summary>The loss of <paramref name="kind"/>; <paramref name="z"/> is needed for KTO only.</summary>
    public static Tensor Of(PreferenceLossKind kind, Tensor rhoChosen, Tensor rhoRejected, double beta, Tensor? z = null,
        double lambdaDesirable = 1.0, double lambdaUndesirable = 1.0) => kind switch
        {
            PreferenceLossKind.Dpo => Dpo(rhoChosen, rhoRejected, beta),
            PreferenceLossKind.Ipo => Ipo(rhoChosen, rhoRejected, beta),
            PreferenceLossKind.Kto => Kto(rhoChosen, rhoRejected, z ?? throw new ArgumentNullException(nameof(z), "KTO needs its reference point z."),
                beta, lambdaDesirable, lambdaUndesirable),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
}
