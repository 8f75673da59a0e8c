using PfPpo.IO;
using PfPpo.Sandbox;

namespace PfPpo.Cli;

/// <summary>Turns user errors (bad files, bad arguments) into <c>error: message</c> on stderr and exit code 1, without a stack trace.</summary>
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
    /// Errors a user can fix: malformed or missing files (IOException covers FileNotFound/DirectoryNotFound), bad
    /// options, unsupported formats. Anything else is a bug and keeps its stack trace.
    /// (DataFormatException is the base of the file-format errors, TokenizerFormatException included.)
    /// A sandbox that cannot start is reported the same way: it is this machine's setup, not a bug; so is a loss that turned
    /// NaN or infinite (settings such as the learning rate make it happen; the message names the step).
    /// </summary>
    private static bool IsUserError(Exception e) => e is FormatException or ArgumentException or IOException or InvalidDataException
        or DataFormatException or UnauthorizedAccessException or PlatformNotSupportedException or NotSupportedException
        or SandboxInfrastructureException or Training.NonFiniteTrainingException;
}
