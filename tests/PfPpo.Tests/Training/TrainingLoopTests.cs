using PfPpo.Training;

namespace PfPpo.Tests.Training;

public class TrainingLoopTests
{
    private sealed class Recorder(Func<int, double>? loss = null) : ITrainingSteps
    {
        public List<int> Steps { get; } = [];
        public List<int> Evaluations { get; } = [];
        public List<int> Saves { get; } = [];

        public ValueTask<IReadOnlyDictionary<string, double>> StepAsync(int step, CancellationToken cancellation)
        {
            Steps.Add(step);
            return ValueTask.FromResult<IReadOnlyDictionary<string, double>>(
                new Dictionary<string, double> { ["train/loss"] = loss?.Invoke(step) ?? 1.0 / (step + 1) });
        }

        public ValueTask<IReadOnlyDictionary<string, double>> EvaluateAsync(int step, CancellationToken cancellation)
        {
            Evaluations.Add(step);
            return ValueTask.FromResult<IReadOnlyDictionary<string, double>>(new Dictionary<string, double> { ["eval/loss"] = step });
        }

        public void Save(int step) => Saves.Add(step);
    }

    private static int[] LoggedSteps(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
        .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToArray();

    [Fact]
    public async Task LogsEvaluatesAndSavesOnTheCadenceAndAtTheEnd()
    {
        using var temp = new TempDirectory();
        var steps = new Recorder();
        LoopOutcome outcome;
        using (var metrics = new MetricsLogger(temp.Path, resumedAtStep: null))
        {
            outcome = await TrainingLoop.RunAsync(steps, 0, 10, new LoopCadence(LogEvery: 4, EvalEvery: 5, SaveEvery: 3), metrics);
        }
        Assert.True(outcome.Completed);
        Assert.Equal(Enumerable.Range(0, 10), steps.Steps);
        Assert.Equal(new[] { 5, 10 }, steps.Evaluations);
        Assert.Equal(new[] { 3, 6, 9, 10 }, steps.Saves);
        Assert.Equal(new[] { 4, 5, 8, 10 }, LoggedSteps(temp.Path));   // train at 4, 8, 10; eval at 5, 10 (one record at 10)
        Assert.Equal(0.1, outcome.Metrics["train/loss"], 10);
        Assert.Equal(10, outcome.Metrics["eval/loss"]);
    }

    [Fact]
    public async Task StopAfterSavesAndAResumeContinuesWithEachStepLoggedOnce()
    {
        using var temp = new TempDirectory();
        var first = new Recorder();
        using (var metrics = new MetricsLogger(temp.Path, resumedAtStep: null))
        {
            LoopOutcome stopped = await TrainingLoop.RunAsync(first, 0, 10, new LoopCadence(LogEvery: 1, StopAfterSteps: 4), metrics);
            Assert.False(stopped.Completed);
            Assert.Equal(4, stopped.Step);
        }
        Assert.Equal(new[] { 4 }, first.Saves);
        // A crash after step 6 was logged but before it was saved: the resume starts again at 4.
        File.AppendAllText(Path.Combine(temp.Path, "metrics.jsonl"), "{\"step\":5,\"train/loss\":0.2}\n{\"step\":6,\"train/lo");
        var second = new Recorder();
        using (var metrics = new MetricsLogger(temp.Path, resumedAtStep: 4))
        {
            Assert.True((await TrainingLoop.RunAsync(second, 4, 10, new LoopCadence(LogEvery: 1), metrics)).Completed);
        }
        Assert.Equal(Enumerable.Range(4, 6), second.Steps);
        Assert.Equal(Enumerable.Range(1, 10), LoggedSteps(temp.Path)); // each step once, the final eval in step 10's record
        Assert.Single(Directory.GetFiles(Path.Combine(temp.Path, "tensorboard"), "events.out.tfevents.*"));
    }

    [Fact]
    public async Task ANonFiniteLossStopsTheRunNamingTheStepAndTheLastFiniteMetrics()
    {
        using var temp = new TempDirectory();
        var steps = new Recorder(step => step == 3 ? double.NaN : 0.5);
        using var metrics = new MetricsLogger(temp.Path, resumedAtStep: null);
        var e = await Assert.ThrowsAsync<NonFiniteTrainingException>(() => TrainingLoop.RunAsync(steps, 0, 10, new LoopCadence(LogEvery: 1, SaveEvery: 1), metrics));
        Assert.Contains("step 4", e.Message);
        Assert.Contains("train/loss 0.5", e.Message);
        Assert.Equal(new[] { 1, 2, 3 }, steps.Saves);
    }

    [Fact]
    public async Task CancellationStopsBeforeTheNextStep()
    {
        using var temp = new TempDirectory();
        using var cancel = new CancellationTokenSource();
        var steps = new Recorder(step =>
        {
            if (step == 2)
            {
                cancel.Cancel();
            }
            return 1;
        });
        using var metrics = new MetricsLogger(temp.Path, resumedAtStep: null);
        await Assert.ThrowsAsync<OperationCanceledException>(() => TrainingLoop.RunAsync(steps, 0, 10, new LoopCadence(), metrics, cancellation: cancel.Token));
        Assert.Equal(new[] { 0, 1, 2 }, steps.Steps);
    }
}
