using System.Text.Json.Serialization;
using PfPpo.Filtration;

namespace PfPpo.Ppo;

/// <summary>Which objective trains the policy.</summary>
public enum PpoAlgorithm
{
    /// <summary>PPO with a critic and GAE; N responses per prompt (PPO-M, and PF-PPO with a filter).</summary>
    Ppo,

    /// <summary>PPO-S: PPO with one response per prompt and N times the prompts, so it sees as many responses per iteration.</summary>
    PpoS,

    /// <summary>GRPO: no critic; group-normalised advantages over the N responses of a prompt; KL as a loss (k3).</summary>
    Grpo,
}

/// <summary>What the sequence reward of a response is.</summary>
public enum RewardSource
{
    /// <summary>The reward model's score, normalised with its saved mean and std, clipped to ±<see cref="PpoOptions.RewardClip"/>.</summary>
    Rm,

    /// <summary>The sandbox's actual score (fraction of tests passed) mapped to [-1, 1].</summary>
    Execution,

    /// <summary>The sum of the two.</summary>
    RmPlusExecution,
}

/// <summary>
/// Settings of one PPO / PF-PPO / GRPO run. Defaults follow the authors' released scripts where they transfer (clip 0.2,
/// value clip 0.2, γ 1, λ 0.95, fixed KL 0.01, temperature 1, N 5); learning rates are for small models.
/// </summary>
public sealed record PpoOptions
{
    public PpoAlgorithm Algorithm { get; init; } = PpoAlgorithm.Ppo;

    /// <summary>The filtration strategy (docs/filtration.md syntax), or <c>auto</c>: chosen by R² on a calibration rollout.</summary>
    public string Filter { get; init; } = "none";

    /// <summary>The strategies <c>auto</c> chooses among.</summary>
    public IReadOnlyList<string> AutoCandidates { get; init; } = ["none", "bon", "br", "bw"];

    public FiltrationMode Mode { get; init; } = FiltrationMode.Drop;

    /// <summary>N: responses per prompt (PPO-S: the factor by which it multiplies the prompts instead).</summary>
    public int SamplesPerPrompt { get; init; } = 5;

    public int PromptsPerIteration { get; init; } = 8;

    public int Iterations { get; init; } = 20;

    public RewardSource Reward { get; init; } = RewardSource.Rm;

    /// <summary>The normalised RM reward is clipped to ±this.</summary>
    public double RewardClip { get; init; } = 5.0;

    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    public int MaxNewTokens { get; init; } = 128;

    /// <summary>β, the KL coefficient (the start value when adaptive).</summary>
    public double KlCoefficient { get; init; } = 0.01;

    public KlEstimator KlEstimator { get; init; } = KlEstimator.K1;

    /// <summary>KL as a loss term (β · k) instead of a per-token reward penalty; null: as a loss for GRPO, as a penalty for PPO.</summary>
    public bool? KlAsLoss { get; init; }

    /// <summary>Target KL per response of the adaptive controller; null keeps β fixed.</summary>
    public double? KlTarget { get; init; }

    public double KlHorizon { get; init; } = 10_000;

    public double Gamma { get; init; } = 1.0;

    public double Lambda { get; init; } = 0.95;

    /// <summary>Added to the reward of a response cut at the length limit (e.g. -1); 0 turns it off.</summary>
    public double TruncationPenalty { get; init; }

    public double ClipRange { get; init; } = 0.2;

    /// <summary>Value clip c (+Infinity: plain squared error).</summary>
    public double ValueClip { get; init; } = 0.2;

    /// <summary>K: passes over the iteration's experience.</summary>
    public int Epochs { get; init; } = 2;

    /// <summary>Responses per mini-batch.</summary>
    public int MiniBatchSize { get; init; } = 8;

    public double ActorLearningRate { get; init; } = 1e-5;

    public double CriticLearningRate { get; init; } = 1e-4;

    /// <summary>Share of the iterations with a linear warmup (both learning rates; the schedule runs per iteration).</summary>
    public double WarmupFraction { get; init; }

    /// <summary>The cosine decays to this share of the peak (1: constant).</summary>
    public double MinLearningRateRatio { get; init; } = 1.0;

    public double GradClip { get; init; } = 1.0;

    /// <summary>The first iterations train the critic only.</summary>
    public int CriticWarmupIterations { get; init; }

    /// <summary>Stop an iteration's epochs once the mean approximate KL of a mini-batch exceeds this; null never stops.</summary>
    public double? TargetKl { get; init; }

    public bool WhitenAdvantages { get; init; } = true;

    /// <summary>Held-out greedy pass@1 every this many iterations (and at the last); 0 at the last only.</summary>
    public int EvalEvery { get; init; } = 5;

    /// <summary>Evaluate on the first K held-out problems only (null: all).</summary>
    public int? EvalLimit { get; init; }

    /// <summary>Share of --problems held out for evaluation when no evaluation file is given.</summary>
    public double HeldOutFraction { get; init; } = 0.1;

    public int SaveEvery { get; init; } = 1;

    public int KeepCheckpoints { get; init; } = 2;

    public int? StopAfterIterations { get; init; }

    public long Seed { get; init; }

    /// <summary>Prompts of the calibration rollout (for <c>auto</c> and quantile thresholds).</summary>
    public int CalibrationPrompts { get; init; } = 32;

    /// <summary>Sandbox workers (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Rows decoded together by the sampler.</summary>
    public int GenerationBatchSize { get; init; } = 64;

    /// <summary>Whether KL is a loss term in this run.</summary>
    [JsonIgnore]
    public bool KlIsLoss => KlAsLoss ?? Algorithm == PpoAlgorithm.Grpo;

    /// <summary>Whether the run trains a critic.</summary>
    [JsonIgnore]
    public bool UsesCritic => Algorithm != PpoAlgorithm.Grpo;

    /// <summary>Prompts sampled per iteration and responses per prompt (PPO-S trades one for the other).</summary>
    [JsonIgnore]
    public (int Prompts, int Responses) Rollout => Algorithm == PpoAlgorithm.PpoS
        ? (PromptsPerIteration * SamplesPerPrompt, 1)
        : (PromptsPerIteration, SamplesPerPrompt);

    /// <summary>The options that decide the result (cadence, time boxes, evaluation and workers do not), for the run's fingerprint.</summary>
    [JsonIgnore]
    public PpoOptions ResultDefining => this with
    {
        EvalEvery = 0, EvalLimit = null, SaveEvery = 0, KeepCheckpoints = 0, StopAfterIterations = null, Workers = 0,
    };

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        Require(SamplesPerPrompt >= 1, nameof(SamplesPerPrompt), SamplesPerPrompt, "at least 1");
        Require(Algorithm != PpoAlgorithm.Grpo || SamplesPerPrompt >= 2, nameof(SamplesPerPrompt), SamplesPerPrompt,
            "at least 2 for GRPO (its advantages compare the responses of a prompt)");
        Require(PromptsPerIteration >= 1, nameof(PromptsPerIteration), PromptsPerIteration, "at least 1");
        Require(Iterations >= 1, nameof(Iterations), Iterations, "at least 1");
        Require(Epochs >= 1, nameof(Epochs), Epochs, "at least 1");
        Require(MiniBatchSize >= 1, nameof(MiniBatchSize), MiniBatchSize, "at least 1");
        Require(ActorLearningRate > 0 && CriticLearningRate > 0, nameof(ActorLearningRate), ActorLearningRate, "positive (both learning rates)");
        Require(ClipRange > 0, nameof(ClipRange), ClipRange, "positive");
        Require(ValueClip > 0, nameof(ValueClip), ValueClip, "positive (+Infinity turns clipping off)");
        Require(KlCoefficient >= 0 && double.IsFinite(KlCoefficient), nameof(KlCoefficient), KlCoefficient, "finite and not negative");
        Require(KlTarget is null or > 0, nameof(KlTarget), KlTarget, "positive");
        Require(Gamma is >= 0 and <= 1 && Lambda is >= 0 and <= 1, nameof(Gamma), Gamma, "in [0, 1] (γ and λ)");
        Require(Temperature > 0, nameof(Temperature), Temperature, "positive (PPO samples)");
        Require(RewardClip > 0, nameof(RewardClip), RewardClip, "positive");
        Require(CriticWarmupIterations >= 0 && CriticWarmupIterations < Iterations, nameof(CriticWarmupIterations), CriticWarmupIterations,
            "in [0, iterations)");
        Require(TargetKl is null or > 0, nameof(TargetKl), TargetKl, "positive");
        Require(HeldOutFraction is >= 0 and < 1, nameof(HeldOutFraction), HeldOutFraction, "in [0, 1)");
    }

    private static void Require(bool condition, string name, object? value, string what)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {what}, got {value}.");
        }
    }
}
