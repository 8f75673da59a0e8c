using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>
/// A reward model is a <see cref="ScalarHeadModel"/> (HF *ForSequenceClassification, num_labels 1): its reward for a
/// (prompt, response) is the head's value at the last real token. The one place that reads it, for training, scoring
/// samples and PPO.
/// </summary>
public static class RewardModel
{
    /// <summary>config.json fields holding the reward's mean and standard deviation on held-out responses (for PPO's normalisation).</summary>
    public const string MeanField = "reward_mean";
    public const string StdField = "reward_std";

    /// <summary>
    /// What the reward model reads for a (prompt, response): the prompt's tokens and the response text's tokens, no EOS
    /// appended, so a response that ended at EOS and one cut at a stop string are read alike. Training and scoring both
    /// use this.
    /// </summary>
    public static TokenSequence Sequence(HfTokenizer tokenizer, IReadOnlyList<int> promptTokens, string response) =>
        new(promptTokens, [.. tokenizer.Encode(response)]);

    /// <summary>Rewards of (prompt, response) sequences in batches of <paramref name="batchSize"/>, without gradients, in eval mode.</summary>
    public static float[] Score(ScalarHeadModel model, IReadOnlyList<TokenSequence> sequences, int padTokenId, int batchSize, Device device)
    {
        var rewards = new List<float>(sequences.Count);
        using (model.EvalMode())
        using (no_grad())
        {
            foreach (TokenSequence[] chunk in sequences.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                rewards.AddRange(Rewards(model, TokenBatch.Collate(chunk, padTokenId, Padding.Right, device)).cpu().data<float>().ToArray());
            }
        }
        return [.. rewards];
    }

    /// <summary>The reward of every row of <paramref name="batch"/>, [B] fp32: the score at each row's last real token.</summary>
    public static Tensor Rewards(ScalarHeadModel model, TokenBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor scores = model.forward(batch.InputIds, batch.ModelMask);                          // [B, T]
        return scores.gather(1, batch.LastTokenIndex.unsqueeze(1)).squeeze(1).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the reward statistics into the checkpoint's config.json.</summary>
    public static void WriteStatistics(string dir, double mean, double std)
    {
        string path = Path.Combine(dir, HfCheckpoint.ConfigFile);
        JsonObject config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config[MeanField] = mean;
        config[StdField] = std;
        AtomicFile.WriteAllText(path, config.ToJsonString(ModelConfig.JsonOptions) + "\n");
    }

    /// <summary>The saved reward statistics of a reward model checkpoint, or null when it has none.</summary>
    public static (double Mean, double Std)? ReadStatistics(ModelConfig config) =>
        config.Extra.TryGetValue(MeanField, out JsonNode? mean) && mean is JsonValue m && m.TryGetValue(out double meanValue)
        && config.Extra.TryGetValue(StdField, out JsonNode? std) && std is JsonValue s && s.TryGetValue(out double stdValue)
            ? (meanValue, stdValue)
            : null;
}
