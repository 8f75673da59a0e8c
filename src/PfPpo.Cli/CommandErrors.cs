namespace PfPpo.Cli;

/// <summary>
/// Turns the errors a user can fix (bad files, bad options, missing inputs) into one line on stderr and exit code 1,
/// without a stack trace; anything else is a bug and keeps its stack trace.
/// </summary>
public static class CommandErrors
{
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
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
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    public static int Run(Func<int> action) => RunAsync(() => Task.FromResult(action())).GetAwaiter().GetResult();

    private static bool IsUserError(Exception e) => e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException
        or ArgumentException or InvalidOperationException or FormatException or UnauthorizedAccessException or NotSupportedException;
}
