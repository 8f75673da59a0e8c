using PfPpo.IO;
using PfPpo.Sandbox;
using PfPpo.Training;

namespace PfPpo.Cli;

/// <summary>
/// Turns user errors (bad files, bad flags) into <c>error: message</c> on stderr and exit code 1, without a stack trace.
/// Any other exception is a bug in the toolkit and keeps its stack trace, so that it is not mistaken for bad input.
/// </summary>
public static class UserErrors
{
    public static int Run(Func<int> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(() => Task.FromResult(action())).GetAwaiter().GetResult();
    }

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            // Cancelled by SIGINT/SIGTERM: Program's Interrupt prints the one line and picks the exit code (130, 143).
            return 130;
        }
    }

    /// <summary>
    /// Errors a user can fix: a flag value the CLI refused (<see cref="UsageException"/>); a malformed, missing or unreadable
    /// file (<see cref="DataFormatException"/>, the base of the file-format errors, <see cref="InvalidDataException"/>, and
    /// <see cref="IOException"/>, which covers FileNotFound, DirectoryNotFound and <see cref="RunFolderException"/>);
    /// a machine that lacks something (no sandbox, no ICU, not enough memory for the model asked for); a loss that turned NaN or infinite (settings such as the learning
    /// rate make it happen; the message names the step). Anything else, ArgumentException included, is a bug.
    /// </summary>
    public static bool IsUserError(Exception e) => e is UsageException or DataFormatException or InvalidDataException or IOException
        or UnauthorizedAccessException or PlatformNotSupportedException or InsufficientMemoryException or SandboxInfrastructureException
        or NonFiniteTrainingException;
}
