using PfPpo.Tokenization;

namespace PfPpo.Cli;

/// <summary>Turns user errors (bad files, bad arguments) into <c>error: message</c> on stderr and exit code 1, without a stack trace.</summary>
public static class UserErrors
{
    public static int Run(Func<int> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return action();
        }
        catch (Exception e) when (e is TokenizerFormatException or FormatException or ArgumentException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
