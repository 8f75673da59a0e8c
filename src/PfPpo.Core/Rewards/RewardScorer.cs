using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Rollouts;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>
/// A loaded reward model that scores sampled responses as PPO reads them (<see cref="RewardModel.Sequence"/> +
/// <see cref="RewardModel.Score"/>, raw scores): the online baselines' ranking step.
/// </summary>
public sealed class RewardScorer : IDisposable
{
    private readonly ScalarHeadModel model;
    private readonly HfTokenizer tokenizer;
    private readonly int padTokenId;
    private readonly int batchSize;
    private readonly Device device;

    /// <param name="batchSize">Sequences per reward-model batch.</param>
    public RewardScorer(string rewardModelDir, Device device, ScalarType dtype, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1, nameof(batchSize));
        model = HfCheckpoint.LoadScalarHead(rewardModelDir, device, dtype);
        tokenizer = HfTokenizer.Load(Path.Combine(rewardModelDir, HfCheckpoint.TokenizerFile));
        padTokenId = model.Config.PadTokenId ?? model.Config.EosTokenIds.FirstOrDefault(0);
        this.batchSize = batchSize;
        this.device = device;
    }

    /// <summary>The samples with <see cref="ScoredSample.Reward"/> set to the RM's raw score of (prompt of their group, completion).</summary>
    /// <param name="promptTexts">Each group's prompt text, by group index.</param>
    public ScoredSample[] Score(IReadOnlyList<ScoredSample> samples, IReadOnlyList<string> promptTexts)
    {
        var promptTokens = new Dictionary<int, IReadOnlyList<int>>();
        TokenSequence[] sequences = samples.Select(s => RewardModel.Sequence(tokenizer,
            promptTokens.TryGetValue(s.Group, out IReadOnlyList<int>? tokens) ? tokens : promptTokens[s.Group] = tokenizer.Encode(promptTexts[s.Group]),
            s.Completion)).ToArray();
        float[] rewards = RewardModel.Score(model, sequences, padTokenId, batchSize, device);
        return samples.Select((s, i) => s with { Reward = rewards[i] }).ToArray();
    }

    public void Dispose() => model.Dispose();
}
