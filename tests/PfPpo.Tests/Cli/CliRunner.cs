using System.Diagnostics;

namespace PfPpo.Tests.Cli;

/// <summary>Runs the real <c>pfppo</c> executable (built beside the tests) as a child process, as a user would.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    /// <summary>The command failed with <paramref name="message"/> on stderr and no stack trace.</summary>
    public static void AssertRefused(Result result, string message)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    public static Result Run(TimeSpan timeout, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "pfppo.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start pfppo");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pfppo {string.Join(' ', args)} did not finish in {timeout}.");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
