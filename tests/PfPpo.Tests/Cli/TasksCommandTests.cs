using PfPpo.Tasks;

namespace PfPpo.Tests.Cli;

public sealed class TasksCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("pfppo-tasks-cli-");

    private string Dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void WritesBothSplitsAndPrintsTheTable()
    {
        string outDir = Path.Combine(Dir, "bench");
        var result = CliRunner.Run("tasks", "--out", outDir, "--seed", "5", "--train", "120", "--test", "30");
        Assert.True(result.ExitCode == 0, result.StdErr);
        IReadOnlyList<CodeTask> train = TaskJsonl.Read(Path.Combine(outDir, "train.jsonl"));
        IReadOnlyList<CodeTask> test = TaskJsonl.Read(Path.Combine(outDir, "test.jsonl"));
        Assert.Equal(120, train.Count);
        Assert.Equal(30, test.Count);
        TaskSplits expected = TaskGenerator.Generate(seed: 5, trainCount: 120, testCount: 30);
        Assert.Equal(expected.Test.Select(TaskJsonl.Serialize), test.Select(TaskJsonl.Serialize));
        Assert.Contains("fizzbuzz", result.StdOut);
        Assert.Contains("difficulty 3", result.StdOut);
        Assert.Contains("held out of train:", result.StdOut);
    }

    [Fact]
    public void NegativeCountIsAUserError()
    {
        var result = CliRunner.Run("tasks", "--out", Dir, "--train", "-1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--train must be between 0 and 1000000, got -1", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void UnwritableOutputIsAUserError()
    {
        string file = Path.Combine(Dir, "a-file");
        File.WriteAllText(file, "");
        var result = CliRunner.Run("tasks", "--out", file, "--train", "5", "--test", "1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"--out: '{file}' is a file, not a folder.", result.StdErr); // refused while parsing, before any work
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void OutIsRequired()
    {
        var result = CliRunner.Run("tasks");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--out", result.StdErr);
    }
}
