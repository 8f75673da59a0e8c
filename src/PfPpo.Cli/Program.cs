using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using PfPpo.Cli;

RootCommand root = Cli.Build();
string[] expanded;
try
{
    expanded = ConfigFile.Expand(args, root);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
var parse = root.Parse(expanded);
using var interrupt = new Interrupt(waitsForCleanup: parse.Action is not SynchronousCommandLineAction);
// System.CommandLine's own termination handler is off: Interrupt cancels the same token and also knows which signal came.
int code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupt.Token);
return interrupt.Finish(code);

/// <summary>
/// SIGINT and SIGTERM: the first one cancels the command's token; the command stops its work, writes nothing
/// half-finished (results and checkpoints are written atomically) and disposes its sandboxes, then pfppo prints one
/// line and exits with 128 + the signal number (130, 143). Commands without a token (no sandboxes, atomic writes
/// only) and a command that is still cleaning up after <see cref="CleanupLimit"/>, or a second signal, exit at once;
/// what that leaves is removed by the next start (see docs/sandbox.md).
/// </summary>
internal sealed class Interrupt : IDisposable
{
    /// <summary>How long a cancelled command may take to stop before pfppo exits without it.</summary>
    public static readonly TimeSpan CleanupLimit = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _cancel = new();
    private readonly bool _waitsForCleanup;
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    public Interrupt(bool waitsForCleanup)
    {
        _waitsForCleanup = waitsForCleanup;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>The command's exit code, or the signal's when one came (the command was cancelled, whatever it returned).</summary>
    public int Finish(int code)
    {
        int signal = Volatile.Read(ref _signal);
        if (signal == 0)
        {
            return code;
        }

        Console.Error.WriteLine($"interrupted by {Name(signal)}: stopped; unfinished results were not written and sandboxes were removed");
        return ExitCode(signal);
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // pfppo exits itself, after cleaning up
        int signal = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        if (Interlocked.CompareExchange(ref _signal, signal, 0) != 0)
        {
            ExitNow(signal, "a second signal");
            return;
        }
        if (!_waitsForCleanup)
        {
            ExitNow(signal, "nothing to clean up");
            return;
        }
        _cancel.Cancel();
        // The signal handler's thread must not block: the deadline runs on a timer.
        _ = Task.Delay(CleanupLimit).ContinueWith(_ => ExitNow(signal, $"still stopping after {CleanupLimit.TotalSeconds:0} s"), TaskScheduler.Default);
    }

    private static void ExitNow(int signal, string why)
    {
        Console.Error.WriteLine($"interrupted by {Name(signal)}: exiting now ({why}); files are written atomically, so none is half-written, and the next start removes leftover sandboxes");
        Environment.Exit(ExitCode(signal));
    }

    private static int ExitCode(int signal) => 128 + signal;

    private static string Name(int signal) => signal == 2 ? "SIGINT" : "SIGTERM";

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cancel.Dispose();
    }
}
