namespace PfPpo.Tests.Cli;

/// <summary><c>pfppo compare</c>'s flags meet a one-line error naming the flag before anything runs.</summary>
public class CompareCommandTests
{
    private static void AssertRefused(CliRunner.Result result, string message)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void BadFlagsAreRefusedWithTheirName()
    {
        using var dir = new TempDirectory();
        AssertRefused(CliRunner.Run("compare", "--methods", "ppo-m,ppo-x", "--out", dir["c"]), "--methods: unknown method 'ppo-x'; expected one of sft, raft");
        AssertRefused(CliRunner.Run("compare", "--methods", ",", "--out", dir["c"]), "--methods: the method list is empty");
        AssertRefused(CliRunner.Run("compare", "--seeds", "0", "--out", dir["c"]), "--seeds must be between 1 and 100, got 0");
        AssertRefused(CliRunner.Run("compare", "--preset", "huge", "--out", dir["c"]), "huge");
        AssertRefused(CliRunner.Run("compare", "--iterations", "0", "--out", dir["c"]), "--iterations must be between 1 and ");
        AssertRefused(CliRunner.Run("compare", "--eval-problems", dir["missing.jsonl"], "--out", dir["c"]), "missing.jsonl");
        Assert.False(Directory.Exists(dir["c"]));
    }
}
