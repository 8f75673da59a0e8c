using PfPpo.Ppo;
using PfPpo.Preference;

namespace PfPpo.Compare;

/// <summary>Which trainer a method of the comparison runs.</summary>
public enum MethodKind
{
    /// <summary>No training: the shared SFT model itself.</summary>
    Sft,
    /// <summary><c>pfppo ppo</c> (PPO, PPO-S, GRPO; any filter, any reward).</summary>
    Ppo,
    /// <summary><c>pfppo raft</c>.</summary>
    Raft,
    /// <summary><c>pfppo bond</c>.</summary>
    Bond,
    /// <summary><c>pfppo dpo</c> on the reward model's own pairs, one round.</summary>
    Preference,
    /// <summary><c>pfppo dpo --iterations R</c>: fresh samples and RM-labelled pairs every round.</summary>
    IterativePreference,
}

/// <summary>A method of the comparison (a row of the paper's Tables 2 and 3) and how it differs from the shared RL settings.</summary>
/// <param name="Filter">The PPO filtration strategy (docs/filtration.md syntax, or <c>auto</c>).</param>
/// <param name="Reward">The PPO reward; null: the comparison's (the reward model).</param>
public sealed record ComparisonMethod(string Name, MethodKind Kind, string Description)
{
    public PpoAlgorithm Algorithm { get; init; } = PpoAlgorithm.Ppo;
    public string Filter { get; init; } = "none";
    public RewardSource? Reward { get; init; }
    public PreferenceLossKind Loss { get; init; } = PreferenceLossKind.Dpo;

    /// <summary>
    /// True for the PPO rows that differ only in their filtration strategy (PPO-M, PF-PPO and the ablations): the rows
    /// whose R² the rank correlation relates to their pass@1.
    /// </summary>
    public bool IsFiltrationRow => Kind == MethodKind.Ppo && Algorithm == PpoAlgorithm.Ppo && Reward is null && Filter != "auto";
}

/// <summary>The methods <c>pfppo compare</c> knows, and its presets.</summary>
public static class ComparisonMethods
{
    /// <summary>
    /// The threshold ablations keep, like BR and BW, two of five responses on average: <c>top:q0.6</c> keeps rewards at
    /// or above the calibration rollout's 60th percentile; <c>top-bottom:q0.8,q0.2</c> the top and bottom fifths. The
    /// paper tuned its thresholds and did not publish them; these are fixed in advance, not tuned on the test set.
    /// </summary>
    public static readonly IReadOnlyList<ComparisonMethod> All =
    [
        new("sft", MethodKind.Sft, "the shared SFT model, untrained further"),
        new("raft", MethodKind.Raft, "SFT on the RM's best of N, per round"),
        new("bond", MethodKind.Bond, "best-of-N distillation (J-BOND)"),
        new("dpo", MethodKind.Preference, "DPO on the RM's pairs") { Loss = PreferenceLossKind.Dpo },
        new("ipo", MethodKind.Preference, "IPO on the RM's pairs") { Loss = PreferenceLossKind.Ipo },
        new("kto", MethodKind.Preference, "KTO on the RM's pairs") { Loss = PreferenceLossKind.Kto },
        new("iterative-dpo", MethodKind.IterativePreference, "DPO rounds on fresh RM-labelled pairs") { Loss = PreferenceLossKind.Dpo },
        new("ppo-s", MethodKind.Ppo, "PPO, one response per prompt") { Algorithm = PpoAlgorithm.PpoS },
        new("ppo-m", MethodKind.Ppo, "PPO, N responses per prompt, no filter"),
        new("pf-bon", MethodKind.Ppo, "PF-PPO, best of N") { Filter = "bon" },
        new("pf-br", MethodKind.Ppo, "PF-PPO, best and one random") { Filter = "br" },
        new("pf-bw", MethodKind.Ppo, "PF-PPO, best and worst") { Filter = "bw" },
        new("ppo-top", MethodKind.Ppo, "PPO on rewards above a threshold") { Filter = "top:q0.6" },
        new("ppo-top-random", MethodKind.Ppo, "PPO-top plus each other response with probability 1/2") { Filter = "top-random:q0.6" },
        new("ppo-top-bottom", MethodKind.Ppo, "PPO on rewards above an upper and below a lower threshold") { Filter = "top-bottom:q0.8,q0.2" },
        new("ppo-pow-1", MethodKind.Ppo, "PPO, buffer kept with probability |R'|") { Filter = "pow:1" },
        new("ppo-pow-2", MethodKind.Ppo, "PPO, buffer kept with probability |R'|^2") { Filter = "pow:2" },
        new("ppo-pow-3", MethodKind.Ppo, "PPO, buffer kept with probability |R'|^3") { Filter = "pow:3" },
        new("grpo", MethodKind.Ppo, "GRPO: group-normalised advantages, no critic") { Algorithm = PpoAlgorithm.Grpo },
        new("ppo-execution", MethodKind.Ppo, "PPO-M on the execution reward (the ceiling a learned RM chases)") { Reward = RewardSource.Execution },
        new("pf-auto", MethodKind.Ppo, "PF-PPO with the strategy of highest R² on a calibration rollout") { Filter = "auto" },
    ];

    public static readonly IReadOnlyList<string> QuickMethods = ["sft", "ppo-m", "pf-br", "pf-bw", "grpo", "ppo-execution"];

    /// <summary>The method called <paramref name="name"/> (case-insensitive), or a <see cref="FormatException"/> listing the known ones.</summary>
    public static ComparisonMethod Get(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new FormatException($"unknown method '{name.Trim()}'; expected one of {string.Join(", ", All.Select(m => m.Name))}");

    /// <summary>A comma-separated list of method names, in the catalog's order, each once.</summary>
    public static IReadOnlyList<ComparisonMethod> ParseList(string text)
    {
        string[] names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0)
        {
            throw new FormatException("the method list is empty");
        }
        var chosen = names.Select(Get).ToHashSet();
        return All.Where(chosen.Contains).ToArray();
    }

    /// <summary>The filtration strategies of the given methods' filtration rows, for the R² stage (none first).</summary>
    public static IReadOnlyList<string> Strategies(IEnumerable<ComparisonMethod> methods) =>
        new[] { "none" }.Concat(methods.Where(m => m.IsFiltrationRow).Select(m => m.Filter)).Distinct(StringComparer.Ordinal).ToArray();
}
