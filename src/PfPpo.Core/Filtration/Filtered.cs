namespace PfPpo.Filtration;

/// <summary>
/// What a strategy made of one prompt group of N responses.
/// <para><see cref="Kept"/>: the indices (ascending, distinct, in [0, N)) of the responses that go into the PPO buffer in
/// <see cref="FiltrationMode.Drop"/> mode. Random strategies draw it with the seeded RNG; it may be empty for threshold
/// strategies (no response of the group clears the threshold).</para>
/// <para><see cref="Weights"/>: one value per response (all N), the response's <em>inclusion probability</em> in [0, 1]:
/// the probability that a draw of the strategy keeps it (1 for always kept, 0 for never). They are per-response loss
/// multipliers, not a distribution: in <see cref="FiltrationMode.Weight"/> mode every response trains with its loss
/// multiplied by its weight, which is exactly the expectation of the drop-mode loss. The paper's weight vector over
/// ranks (sum 1) is <see cref="Normalised"/>.</para>
/// </summary>
public sealed record Filtered(IReadOnlyList<int> Kept, IReadOnlyList<double> Weights)
{
    /// <summary>The weights divided by their sum (the paper's w, summing to 1); all zeros when nothing can be kept.</summary>
    public IReadOnlyList<double> Normalised()
    {
        double sum = Weights.Sum();
        return sum > 0 ? Weights.Select(w => w / sum).ToArray() : Weights.Select(_ => 0.0).ToArray();
    }

    /// <summary>The loss multiplier of each response under a mode: drop = 1 for kept and 0 for the others; weight = <see cref="Weights"/>.</summary>
    public IReadOnlyList<double> LossWeights(FiltrationMode mode)
    {
        if (mode == FiltrationMode.Weight)
        {
            return Weights;
        }
        var result = new double[Weights.Count];
        foreach (int i in Kept)
        {
            result[i] = 1.0;
        }
        return result;
    }
}

/// <summary>How a filtration result reaches PPO.</summary>
public enum FiltrationMode
{
    /// <summary>Only the kept responses train (saves compute; the paper's practice).</summary>
    Drop,

    /// <summary>Every response trains, its loss multiplied by its inclusion probability.</summary>
    Weight,
}

/// <summary>The RM rewards of the N responses to one prompt; <see cref="Prompt"/> names it in errors (e.g. "group 3 (HumanEval/7)").</summary>
public sealed record RewardGroup(string Prompt, IReadOnlyList<double> Rewards);

/// <summary>A reward is NaN or infinite; the message names the prompt group and the sample.</summary>
public sealed class NonFiniteRewardException(string message) : ArgumentException(message);
