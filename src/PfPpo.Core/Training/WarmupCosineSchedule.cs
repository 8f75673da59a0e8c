namespace PfPpo.Training;

/// <summary>
/// Learning rate: linear warmup from 0 to <see cref="PeakLearningRate"/> over <see cref="WarmupSteps"/>, then cosine
/// decay to <c>PeakLearningRate * MinRatio</c> at <see cref="TotalSteps"/>. Steps are 0-based optimizer steps.
/// </summary>
public sealed record WarmupCosineSchedule(double PeakLearningRate, int WarmupSteps, int TotalSteps, double MinRatio = 0.1)
{
    /// <summary>The schedule of a run of <paramref name="totalSteps"/> steps warming up over a share of them (at least one step).</summary>
    public static WarmupCosineSchedule ForRun(double peakLearningRate, double warmupFraction, int totalSteps, double minRatio) =>
        new(peakLearningRate, Math.Max(1, (int)Math.Round(warmupFraction * totalSteps)), totalSteps, minRatio);

    public double At(int step)
    {
        if (step < WarmupSteps)
        {
            return PeakLearningRate * (step + 1) / WarmupSteps;
        }
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0.0, 1.0);
        double cosine = 0.5 * (1.0 + Math.Cos(Math.PI * progress));
        return PeakLearningRate * (MinRatio + (1.0 - MinRatio) * cosine);
    }
}
