using PfPpo.Runtime;
using Spectre.Console;

namespace PfPpo.Cli;

/// <summary>The progress bars of the single-run commands, drawn on stderr so stdout keeps only the results.</summary>
internal static class ProgressDisplay
{
    /// <summary>Runs <paramref name="body"/> with a progress display (description, bar, percentage, time left) on stderr.</summary>
    public static Task StartAsync(Func<ProgressContext, Task> body)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(body);
    }

    /// <summary>
    /// One bar named <paramref name="name"/>, moved by the run's progress reports: <paramref name="describe"/> says how
    /// far (done of total) and what to show. Returns the run's result.
    /// </summary>
    public static async Task<TResult> SingleBarAsync<TProgress, TResult>(string name, Func<TProgress, (double Done, double Total, string Description)> describe,
        Func<IProgress<TProgress>, Task<TResult>> run)
    {
        TResult result = default!;
        await StartAsync(async context =>
        {
            ProgressTask task = context.AddTask(Markup.Escape(name), maxValue: 1);
            var progress = new SynchronousProgress<TProgress>(p =>
            {
                (double done, double total, string description) = describe(p);
                task.MaxValue = Math.Max(1, total);
                task.Value = done;
                task.Description = Markup.Escape(description);
            });
            result = await run(progress);
        });
        return result;
    }
}
