using PfPpo.Rollouts;

namespace PfPpo.Tests.Cli;

public class RewardCommandsTests
{
    [Fact]
    public void RmDataWritesEveryScoredSampleAndThePairs()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliRunner.Run("tasks", "--out", temp["tasks"], "--train", "40", "--test", "4").ExitCode);
        Assert.Equal(0, CliRunner.Run("train-tokenizer", "--input", temp["tasks/train.jsonl"], "--vocab-size", "300", "--out", temp["tok.json"]).ExitCode);
        Assert.Equal(0, CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "32", "--layers", "1", "--heads", "1", "--kv-heads", "1",
            "--intermediate", "64", "--tokenizer", temp["tok.json"], "--out", temp["model"]).ExitCode);

        CliRunner.Result result = CliRunner.Run("rm-data", "--policy", temp["model"], "--problems", temp["tasks/train.jsonl"], "--prompts", "3",
            "--n", "2", "--max-new-tokens", "8", "--out", temp["rm"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(temp["rm/samples.jsonl"]);
        Assert.Equal(6, samples.Count);
        Assert.Equal(new[] { 0, 0, 1, 1, 2, 2 }, samples.Select(s => s.Group));
        Assert.All(samples, s => Assert.InRange(s.Score, 0, 1));
        Assert.All(samples, s => Assert.NotEmpty(s.Tokens));
        Assert.True(File.Exists(temp["rm/pairs.jsonl"]));
        Assert.Contains("pairs: ", result.StdOut);

        CliRunner.Result refused = CliRunner.Run("rm-data", "--policy", temp["model"], "--problems", temp["tasks/train.jsonl"], "--n", "1", "--out", temp["rm2"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--n must be between 2 and 1000, got 1", refused.StdErr);
    }
}
