using System.Text.Json;

namespace PfPpo.Tests.Cli;

public class PpoCommandTests
{
    private static void Setup(TempDirectory temp)
    {
        Assert.Equal(0, CliRunner.Run("tasks", "--out", temp["tasks"], "--train", "30", "--test", "4").ExitCode);
        Assert.Equal(0, CliRunner.Run("train-tokenizer", "--input", temp["tasks/train.jsonl"], "--vocab-size", "300", "--out", temp["tok.json"]).ExitCode);
        Assert.Equal(0, CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "32", "--layers", "1", "--heads", "1", "--kv-heads", "1",
            "--intermediate", "64", "--tokenizer", temp["tok.json"], "--out", temp["model"]).ExitCode);
    }

    [Fact]
    public void AConfigFileSetsTheFlagsTheCommandLineOverridesItAndTheResolvedConfigIsSaved()
    {
        using var temp = new TempDirectory();
        Setup(temp);
        File.WriteAllText(temp["ppo.yaml"], """
            # a PPO run with the execution reward
            reward: execution
            iterations: 1
            n: 2
            prompts_per_iteration: 3
            max-new-tokens: 8
            filter: bw
            eval-limit: 2
            workers: 1
            """);
        CliRunner.Result result = CliRunner.Run("ppo", "--config", temp["ppo.yaml"], "--policy", temp["model"], "--problems", temp["tasks/train.jsonl"],
            "--eval-problems", temp["tasks/test.jsonl"], "--iterations", "2", "--out", temp["run"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        string[] lines = File.ReadAllLines(temp["run/metrics.jsonl"]);
        Assert.Equal(2, lines.Length);                                       // --iterations 2 on the command line wins over the file's 1
        using JsonDocument first = JsonDocument.Parse(lines[0]);
        Assert.Equal(6, first.RootElement.GetProperty("samples").GetInt32()); // 3 prompts x 2 from the file
        Assert.Equal(6, first.RootElement.GetProperty("samples_trained").GetInt32()); // bw keeps both of 2
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(temp["run/run_config.json"]));
        JsonElement options = config.RootElement.GetProperty("options");
        Assert.Equal(2, options.GetProperty("iterations").GetInt32());
        Assert.Equal("bw", options.GetProperty("filter").GetString());
        Assert.Equal("execution", options.GetProperty("reward").GetString());
        Assert.Contains("held-out", result.StdOut);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(temp["run/summary.json"]));
        Assert.InRange(summary.RootElement.GetProperty("eval_pass_at_1").GetDouble(), 0, 1);
    }

    [Theory]
    [InlineData("iterations: 1\nlearning-rate: 3\n", "line 2: unknown key \"learning-rate\"")]
    [InlineData("iterations:\n  nested: 1\n", "line 1: \"iterations\" must be a value")]
    [InlineData("iterations: [1, 2\n", "not valid YAML or JSON")]
    public void ABadConfigFileIsAnErrorNamingTheFileAndLine(string text, string message)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["bad.yaml"], text);
        CliRunner.Result result = CliRunner.Run("ppo", "--config", temp["bad.yaml"], "--policy", temp["model"], "--problems", temp["bad.yaml"], "--out", temp["run"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(temp["bad.yaml"], result.StdErr);
        Assert.Contains(message, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Theory]
    [InlineData(new[] { "--filter", "best-of-7", "--reward", "execution" }, "--filter: best-of-7")]
    [InlineData(new[] { "--reward", "rm" }, "--reward rm needs --rm")]
    [InlineData(new[] { "--algo", "grpo", "--n", "1", "--reward", "execution" }, "--algo grpo needs --n 2")]
    [InlineData(new[] { "--mode", "keep", "--reward", "execution" }, "'keep' not recognized")]
    [InlineData(new[] { "--epochs", "0", "--reward", "execution" }, "--epochs")]
    public void NonsenseFlagsAreRefusedBeforeAnyWork(string[] flags, string message)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["p.jsonl"], "");
        CliRunner.Result result = CliRunner.Run(["ppo", "--policy", temp["model"], "--problems", temp["p.jsonl"], "--out", temp["run"], .. flags]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.False(Directory.Exists(temp["run"]));
    }
}
