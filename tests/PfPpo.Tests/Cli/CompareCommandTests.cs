namespace PfPpo.Tests.Cli;

/// <summary><c>pfppo compare</c>'s flags meet a one-line error naming the flag before anything runs.</summary>
public class CompareCommandTests
{
    [Fact]
    public void BadFlagsAreRefusedWithTheirName()
    {
        using var dir = new TempDirectory();
        CliRunner.AssertRefused(CliRunner.Run("compare", "--methods", "ppo-m,ppo-x", "--out", dir["c"]), "--methods: unknown method 'ppo-x'; expected one of sft, raft");
        CliRunner.AssertRefused(CliRunner.Run("compare", "--methods", ",", "--out", dir["c"]), "--methods: the method list is empty");
        CliRunner.AssertRefused(CliRunner.Run("compare", "--seeds", "0", "--out", dir["c"]), "--seeds must be between 1 and 100, got 0");
        CliRunner.AssertRefused(CliRunner.Run("compare", "--preset", "huge", "--out", dir["c"]), "huge");
        CliRunner.AssertRefused(CliRunner.Run("compare", "--iterations", "0", "--out", dir["c"]), "--iterations must be between 1 and ");
        CliRunner.AssertRefused(CliRunner.Run("compare", "--eval-problems", dir["missing.jsonl"], "--out", dir["c"]), "missing.jsonl");
        Assert.False(Directory.Exists(dir["c"]));
    }
}
