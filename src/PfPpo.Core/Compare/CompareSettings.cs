using PfPpo.Bond;
using PfPpo.Pipeline;
using PfPpo.Ppo;
using PfPpo.Preference;
using PfPpo.Raft;
using PfPpo.Rewards;

namespace PfPpo.Compare;

/// <summary>
/// Everything a comparison chooses. The shared stages are the demo's (the same SFT model and reward model for every
/// method) plus a validation split; every method × seed then starts from them with the settings of its trainer below.
/// Every RL method samples about as many responses (960 per run); the sizes are chosen so one run takes about two and a
/// half minutes on the project's 2-core machine and the quick preset fits its 45 minutes (docs/results.md says how).
/// </summary>
public sealed record CompareSettings
{
    public IReadOnlyList<string> Methods { get; init; } = ComparisonMethods.QuickMethods;

    /// <summary>The seeds of the method runs (each seeds the trainer's sampling and data order; the shared stages keep theirs).</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>The shared stages: tasks (with a validation split), tokenizer, model, SFT, RM data, RM, R².</summary>
    public DemoSettings Shared { get; init; } = new() { ValidationTasks = 200 };

    /// <summary>Every PPO-family row (PPO-S, PPO-M, PF-PPO, the ablations, GRPO) on the same rollout and update sizes.</summary>
    public PpoOptions Ppo { get; init; } = new()
    {
        Reward = RewardSource.Rm, PromptsPerIteration = 16, SamplesPerPrompt = 5, Iterations = 12, MiniBatchSize = 40, Epochs = 2,
        ActorLearningRate = 1e-4, CriticLearningRate = 1e-3, CriticWarmupIterations = 1, MaxNewTokens = 128, EvalEvery = 4, HeldOutFraction = 0,
    };

    /// <summary>RAFT: as many sampled responses in all as a PPO run (2 rounds × 96 prompts × 5), the RM's best of each prompt kept.</summary>
    public RaftOptions Raft { get; init; } = new()
    {
        SamplesPerPrompt = 5, Prompts = 96, Rounds = 2, MaxNewTokens = 128,
        Sft = new() { Epochs = 1, BatchSize = 16, LearningRate = 1e-4, HeldOutFraction = 0, EvalEvery = 0, LogEvery = 5, MaxLength = 384 },
    };

    /// <summary>DPO, IPO and KTO on the RM's own pairs (one epoch).</summary>
    public PreferenceOptions Preference { get; init; } = new()
    {
        Beta = 0.1, Epochs = 1, BatchSize = 16, LearningRate = 5e-5, HeldOutFraction = 0.1, EvalEvery = 50, LogEvery = 5, MaxNewTokens = 128,
    };

    /// <summary>
    /// BOND: the paper's 4 iterations and β 1.0, each of 60 prompts × 4 samples of the anchor (as many responses in all
    /// as a PPO run), one epoch.
    /// </summary>
    public BondOptions Bond { get; init; } = new()
    {
        Iterations = 4, Beta = 1.0, SamplesPerPrompt = 4, Prompts = 60, MaxNewTokens = 128, BatchSize = 16, Epochs = 1, LearningRate = 5e-5,
    };

    /// <summary>
    /// Iterative DPO: the paper's 3 rounds; round 1 is DPO on the RM's own pairs (as <c>dpo</c>), rounds 2 and 3 sample
    /// 120 prompts × 4 from the previous round's model (as many responses in all as a PPO run) and pair by RM score.
    /// </summary>
    public IterativeDpoOptions IterativeDpo { get; init; } = new()
    {
        Iterations = 3, SamplesPerPrompt = 4, Prompts = 120, MaxNewTokens = 128, Pairing = PairingMode.All,
    };

    /// <summary>Extra problem files (HumanEval, MBPP or LeetCode format) every method's final model is also scored on.</summary>
    public IReadOnlyList<string> EvalProblems { get; init; } = [];

    /// <summary>Longest completion of an evaluation.</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Bootstrap resamples of the seeds for the rank correlation's interval.</summary>
    public int Bootstrap { get; init; } = 2000;

    public int Workers { get; init; }

    /// <summary>The quick preset: six methods, three seeds (issue 12: within 45 minutes on the 2-core machine).</summary>
    public static CompareSettings Quick => new();

    /// <summary>The paper preset: every method, five seeds.</summary>
    public static CompareSettings Paper => new() { Methods = [.. ComparisonMethods.All.Select(m => m.Name)], Seeds = [1, 2, 3, 4, 5] };

    /// <summary>The preset called <paramref name="name"/>.</summary>
    public static CompareSettings Preset(string name) => name.ToLowerInvariant() switch
    {
        "quick" => Quick,
        "paper" => Paper,
        _ => throw new FormatException($"unknown preset '{name}'; expected quick or paper"),
    };
}
