using System.Globalization;
using PfPpo.Ppo;
using PfPpo.Runtime;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Pipeline;

/// <summary>A PPO stage's result (stage.json): held-out greedy pass@1 of its final actor, and what trained.</summary>
/// <param name="PassAt1">Greedy pass@1 on the held-out problems after the last iteration (the final checkpoint, no selection).</param>
/// <param name="Filter">The strategy that filtered, thresholds resolved.</param>
/// <param name="Reward">The reward it trained on (rm, execution or rm+execution).</param>
public sealed record RlStageResult(double PassAt1, string Filter, string Reward, int Iterations, long SamplesTrained, double FirstRewardMean,
    double LastRewardMean, double Seconds);

/// <summary>A pipeline stage that runs <see cref="PpoTrainer"/> (the code of <c>pfppo ppo</c>) in the stage's folder, resumable.</summary>
public static class RlStage
{
    public static async Task<RlStageResult> RunAsync(StageContext stage, PpoInputs inputs, PpoOptions options, Device device)
    {
        var progress = new SynchronousProgress<TrainingProgress>(p => stage.Progress.Report(((double)p.Step / p.TotalSteps,
            string.Create(CultureInfo.InvariantCulture, $"iteration {p.Step}/{p.TotalSteps}, reward {p.Metrics.GetValueOrDefault("reward_mean"):F2}"))));
        PpoResult result = await PpoTrainer.RunAsync(inputs with { Output = stage.Directory }, options, device, ScalarType.Float32,
            stage.Resumable ? ResumeMode.ResumeIfPresent : ResumeMode.Fresh, force: !stage.Resumable, progress, cancellation: stage.Cancellation);
        double[] rewards = File.ReadLines(Path.Combine(stage.Directory, "metrics.jsonl")).Select(RewardMean).ToArray();
        return new RlStageResult(result.EvalPassAt1, result.Filter, PpoTrainer.Describe(options.Reward), result.Iterations, result.SamplesTrained,
            rewards.FirstOrDefault(double.NaN), rewards.LastOrDefault(double.NaN), result.Seconds);
    }

    private static double RewardMean(string line)
    {
        using var record = System.Text.Json.JsonDocument.Parse(line);
        return record.RootElement.TryGetProperty("reward_mean", out System.Text.Json.JsonElement reward) ? reward.GetDouble() : double.NaN;
    }
}
