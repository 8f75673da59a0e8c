using PfPpo.Pipeline;
using Spectre.Console;

namespace PfPpo.Cli;

/// <summary>One progress bar per pipeline stage, created up front so the whole pipeline is visible from the start.</summary>
internal sealed class StageProgressObserver : IStageObserver
{
    private readonly Dictionary<string, ProgressTask> _tasks = new();
    private readonly List<StageRecord> _records = new();

    public StageProgressObserver(ProgressContext context, IEnumerable<string> stages)
    {
        foreach (string stage in stages)
        {
            _tasks[stage] = context.AddTask(stage, autoStart: false, maxValue: 1);
        }
    }

    /// <summary>The finished stages, in the order they finished.</summary>
    public IReadOnlyList<StageRecord> Records => _records;

    public void Started(string stage) => _tasks[stage].StartTask();

    public void Progress(string stage, double fraction, string message)
    {
        ProgressTask task = _tasks[stage];
        task.Value = Math.Clamp(fraction, 0, 1);
        task.Description = $"{stage}: {Markup.Escape(message)}";
    }

    public void Finished(StageRecord record)
    {
        ProgressTask task = _tasks[record.Stage];
        task.Value = 1;
        task.Description = record.Reused ? $"{record.Stage} (reused)" : record.Stage;
        task.StopTask();
        _records.Add(record);
    }

    /// <summary>Runs <paramref name="run"/> under a Spectre progress display with a bar per stage.</summary>
    public static async Task<IReadOnlyList<StageRecord>> RunAsync(IEnumerable<string> stages, Func<IStageObserver, Task> run)
    {
        IReadOnlyList<StageRecord> records = [];
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var observer = new StageProgressObserver(context, stages);
                await run(observer);
                records = observer.Records;
            });
        return records;
    }
}
