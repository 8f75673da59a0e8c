namespace PfPpo.Tests.Cli;

public class SftCommandTests
{
    [Theory]
    [InlineData("--lr", "NaN", "--lr must be a finite number in (0, 1], got NaN")]
    [InlineData("--lr", "1e6", "--lr must be a finite number in (0, 1]")]
    [InlineData("--grad-clip", "-1", "--grad-clip must be a finite number > 0, got -1")]
    [InlineData("--grad-clip", "0", "--grad-clip must be a finite number > 0, got 0")]
    [InlineData("--max-steps", "-1", "--max-steps must be at least 1, got -1")]
    [InlineData("--epochs", "0", "--epochs must be between 1 and 10000, got 0")]
    [InlineData("--warmup", "2", "--warmup must be a finite number in [0, 0.99], got 2")]
    [InlineData("--save-every", "-1", "--save-every must be at least 0, got -1")]
    [InlineData("--stop-after", "0", "--stop-after must be at least 1, got 0")]
    [InlineData("--threads", "5000", "--threads must be between 1 and")]
    [InlineData("--skip-nonfinite", "-1", "--skip-nonfinite must be between 0 and 1000, got -1")]
    public void NonsenseValuesAreRefusedBeforeAnyWorkNamingTheFlag(string flag, string value, string message)
    {
        using var temp = new TempDirectory();
        string outDir = temp["out"];
        CliRunner.Result result = CliRunner.Run("sft", "--model", temp["no-model"], "--data", temp["no-data.jsonl"], "--out", outDir, flag, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.False(Directory.Exists(outDir), "a refused run left an output folder");
    }
}
