using System.Diagnostics;
using System.Globalization;

namespace PfPpo.Training;

/// <summary>When the loop logs, evaluates and saves. Steps count optimizer steps, or rollout iterations for RL.</summary>
/// <param name="LogEvery">Log the step's metrics every N steps (and at the last).</param>
/// <param name="EvalEvery">Evaluate every N steps (and at the last); 0: at the last only.</param>
/// <param name="SaveEvery">A resumable checkpoint every N steps (and at the last, and where the run stops early); 0: at those only.</param>
/// <param name="StopAfterSteps">Stop after this many steps in this invocation (a time box): it saves, and a resume continues the same schedule.</param>
public sealed record LoopCadence(int LogEvery = 10, int EvalEvery = 0, int SaveEvery = 0, int? StopAfterSteps = null);

/// <summary>Where a run stands: the step just finished and the latest value of every metric.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, IReadOnlyDictionary<string, double> Metrics, double Seconds);

/// <summary>How a loop ended.</summary>
/// <param name="Completed">All steps are done (false: stopped by <see cref="LoopCadence.StopAfterSteps"/>).</param>
/// <param name="Metrics">The latest value of every metric logged (training and evaluation).</param>
public sealed record LoopOutcome(int Step, int TotalSteps, bool Completed, int StepsThisRun, IReadOnlyDictionary<string, double> Metrics, double Seconds);

/// <summary>What a trainer does at each point of the loop.</summary>
public interface ITrainingSteps
{
    /// <summary>Runs step <paramref name="step"/> (0-based) and returns its metrics (names like <c>train/loss</c>).
    /// Asynchronous because an RL step waits on the sandbox; a step that is pure computation returns a completed task.</summary>
    ValueTask<IReadOnlyDictionary<string, double>> StepAsync(int step, CancellationToken cancellation);

    /// <summary>Evaluates after <paramref name="step"/> steps; metrics like <c>eval/loss</c>, or none.</summary>
    ValueTask<IReadOnlyDictionary<string, double>> EvaluateAsync(int step, CancellationToken cancellation);

    /// <summary>Writes a resumable checkpoint after <paramref name="step"/> steps.</summary>
    void Save(int step);
}

/// <summary>
/// The one training loop: steps from where the run stands to the end with cancellation, logging, evaluation and
/// checkpoint cadence, <c>--stop-after</c>, metrics to jsonl and TensorBoard and a progress record. It knows nothing
/// of epochs or data: SFT's step draws a batch, PPO's step is a rollout iteration.
/// </summary>
public static class TrainingLoop
{
    /// <summary>
    /// Runs the steps from <paramref name="startStep"/> to <paramref name="totalSteps"/>. A step that logs and evaluates
    /// writes one metrics record holding both.
    /// </summary>
    public static async Task<LoopOutcome> RunAsync(ITrainingSteps steps, int startStep, int totalSteps, LoopCadence cadence, MetricsLogger metrics,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1, nameof(totalSteps));
        ArgumentOutOfRangeException.ThrowIfLessThan(cadence.LogEvery, 1, nameof(cadence.LogEvery));
        ArgumentOutOfRangeException.ThrowIfNegative(cadence.EvalEvery, nameof(cadence.EvalEvery));
        ArgumentOutOfRangeException.ThrowIfNegative(cadence.SaveEvery, nameof(cadence.SaveEvery));
        if (cadence.StopAfterSteps is int limit)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1, nameof(cadence.StopAfterSteps));
        }
        var clock = Stopwatch.StartNew();
        var latest = new SortedDictionary<string, double>(StringComparer.Ordinal);
        int step = startStep;
        int stepsThisRun = 0;
        while (step < totalSteps)
        {
            cancellation.ThrowIfCancellationRequested();
            IReadOnlyDictionary<string, double> values;
            try
            {
                values = await steps.StepAsync(step, cancellation);
            }
            catch (NonFiniteTrainingException e)
            {
                throw new NonFiniteTrainingException($"{e.Message} Last finite metrics: {Describe(latest)}. " +
                    "No weights were written for this step; the newest checkpoint (if any) is intact.");
            }
            foreach ((string name, double value) in values)
            {
                if (!double.IsFinite(value) && (name.EndsWith("loss", StringComparison.Ordinal) || name.EndsWith("grad_norm", StringComparison.Ordinal)))
                {
                    throw new NonFiniteTrainingException($"{name} is {value} at step {step + 1}. Last finite metrics: {Describe(latest)}. " +
                        "No weights were written for this step; the newest checkpoint (if any) is intact.");
                }
            }
            step++;
            stepsThisRun++;
            bool last = step == totalSteps;
            foreach ((string name, double value) in values)
            {
                latest[name] = value;
            }
            var record = new Dictionary<string, double>();
            if (step % cadence.LogEvery == 0 || last)
            {
                foreach ((string name, double value) in values)
                {
                    record[name] = value;
                }
            }
            if ((cadence.EvalEvery > 0 && step % cadence.EvalEvery == 0) || last)
            {
                IReadOnlyDictionary<string, double> evaluation = await steps.EvaluateAsync(step, cancellation);
                foreach ((string name, double value) in evaluation)
                {
                    latest[name] = value;
                    record[name] = value;
                }
            }
            if (record.Count > 0)
            {
                metrics.Log(step, record);
            }
            progress?.Report(new TrainingProgress(step, totalSteps, new SortedDictionary<string, double>(latest), clock.Elapsed.TotalSeconds));
            bool stopping = !last && cadence.StopAfterSteps is int stopAfter && stepsThisRun >= stopAfter;
            if ((cadence.SaveEvery > 0 && step % cadence.SaveEvery == 0) || last || stopping)
            {
                steps.Save(step);
            }
            if (stopping)
            {
                return new LoopOutcome(step, totalSteps, false, stepsThisRun, latest, clock.Elapsed.TotalSeconds);
            }
        }
        return new LoopOutcome(step, totalSteps, true, stepsThisRun, latest, clock.Elapsed.TotalSeconds);
    }

    private static string Describe(IReadOnlyDictionary<string, double> metrics) =>
        metrics.Count == 0 ? "none yet" : string.Join(", ", metrics.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:G5}")));
}
