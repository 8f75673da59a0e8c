namespace PfPpo.Tests.Cli;

public class InfoCommandTests
{
    [Fact]
    public void InfoReportsThreadsAndCuda()
    {
        var result = CliRunner.Run("info");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"threads: {Environment.ProcessorCount}", result.StdOut);
        Assert.Contains("cuda:", result.StdOut);
    }

    [Fact]
    public void UnknownSubcommandFails()
    {
        var result = CliRunner.Run("no-such-command");
        Assert.NotEqual(0, result.ExitCode);
    }
}
