using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Rollouts;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>Scores a scored-samples file with a reward model (<c>pfppo reward</c>): each sample's raw reward, written back into the same format.</summary>
public static class SampleRewards
{
    /// <summary>The samples with <see cref="ScoredSample.Reward"/> set; the prompts come from the problems file by task_id.</summary>
    public static IReadOnlyList<ScoredSample> Score(string rmDir, string problemsPath, string samplesPath, Device device, ScalarType dtype,
        int batchSize = 32) =>
        Score(rmDir, ProblemSet.Load(problemsPath).Problems, problemsPath, ScoredSamples.Read(samplesPath), samplesPath, device, dtype, batchSize);

    /// <summary>
    /// <paramref name="samples"/> with <see cref="ScoredSample.Reward"/> set, each read with the eval prompt of its task_id's
    /// problem (<paramref name="problemsLabel"/> and <paramref name="samplesLabel"/> name the sources in errors).
    /// </summary>
    public static IReadOnlyList<ScoredSample> Score(string rmDir, IReadOnlyList<Problem> problems, string problemsLabel,
        IReadOnlyList<ScoredSample> samples, string samplesLabel, Device device, ScalarType dtype, int batchSize = 32)
    {
        using ScalarHeadModel rm = HfCheckpoint.LoadScalarHead(rmDir, device, dtype);
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(rmDir, HfCheckpoint.TokenizerFile));
        var prompts = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (Problem problem in problems)
        {
            prompts.TryAdd(problem.TaskId, [.. tokenizer.Encode(EvalPrompt.For(problem).Text)]);
        }
        var sequences = new TokenSequence[samples.Count];
        for (int i = 0; i < samples.Count; i++)
        {
            if (!prompts.TryGetValue(samples[i].TaskId, out int[]? prompt))
            {
                throw new DataFormatException($"{samplesLabel}: sample {i + 1} names task_id \"{samples[i].TaskId}\", which {problemsLabel} does not have.");
            }
            sequences[i] = RewardModel.Sequence(tokenizer, prompt, samples[i].Completion);
        }
        int padTokenId = rm.Config.PadTokenId ?? rm.Config.EosTokenIds.FirstOrDefault(0);
        float[] rewards = RewardModel.Score(rm, sequences, padTokenId, batchSize, device);
        return samples.Select((s, i) => s with { Reward = rewards[i] }).ToArray();
    }
}
