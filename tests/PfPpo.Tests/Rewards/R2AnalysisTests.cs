using System.Text.Json.Nodes;
using PfPpo.Filtration;
using PfPpo.IO;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Tests.Cli;

namespace PfPpo.Tests.Rewards;

public class R2AnalysisTests
{
    /// <summary>40 prompts x 5 responses; the reward is the actual score plus noise, so R² is well above 0 and below 1.</summary>
    private static ScoredSample[] Samples(int seed = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 40).SelectMany(g => Enumerable.Range(0, 5).Select(i =>
        {
            double score = random.Next(5) / 4.0;
            return new ScoredSample($"t/{g}", g, i, $"c{g}-{i}", [1, 2], score, score == 1, score == 1 ? "passed" : "failed",
                score + (random.NextDouble() - 0.5), -1);
        })).ToArray();
    }

    private static double SquaredPearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double mx = x.Average(), my = y.Average();
        double sxy = x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum();
        double sxx = x.Sum(a => (a - mx) * (a - mx)), syy = y.Sum(b => (b - my) * (b - my));
        return sxy * sxy / (sxx * syy);
    }

    [Fact]
    public void NoFilterPerResponseR2IsTheSquaredCorrelationAndBestOfNKeepsOnePerPrompt()
    {
        ScoredSample[] samples = Samples();
        IReadOnlyList<StrategyR2> results = R2Analysis.Run(samples, StrategySyntax.ParseList("none,bon,bw"), bins: 10, FiltrationMode.Drop, seed: 7, replicates: 200);
        StrategyR2 none = results[0];
        Assert.Equal(200, none.Kept);
        Assert.Equal(SquaredPearson(samples.Select(s => s.Reward!.Value).ToArray(), samples.Select(s => s.Score).ToArray()), none.PerResponse.R2, 9);
        Assert.InRange(none.PerResponse.R2, none.PerResponseInterval.Low, none.PerResponseInterval.High);
        Assert.Equal(40, results[1].Kept);
        Assert.Equal(80, results[2].Kept);
        // The bon responses are each prompt's highest reward.
        Assert.Equal("none", none.Strategy);
        Assert.Equal(results.Select(r => r.PerResponse.R2), R2Analysis.Run(samples, StrategySyntax.ParseList("none,bon,bw"), 10, FiltrationMode.Drop, 7, 200).Select(r => r.PerResponse.R2));
    }

    [Fact]
    public void UnrewardedSamplesAreRefusedWithAHint()
    {
        ScoredSample[] samples = Samples();
        samples[3] = samples[3] with { Reward = null };
        var e = Assert.Throws<DataFormatException>(() => R2Analysis.Run(samples, StrategySyntax.ParseList("none"), 10, FiltrationMode.Drop, 1));
        Assert.Contains("pfppo reward", e.Message);
    }

    [Fact]
    public void TheCommandWritesR2JsonThatMatchesTheAnalysisAndRecommends()
    {
        using var temp = new TempDirectory();
        ScoredSample[] samples = Samples();
        ScoredSamples.Write(temp["samples.jsonl"], samples);
        CliRunner.Result result = CliRunner.Run("r2", "--samples", temp["samples.jsonl"], "--strategies", "none,bon,br,bw", "--bootstrap", "200",
            "--seed", "7", "--out", temp["r2"], "--recommend");
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("recommended: ", result.StdOut);
        JsonObject json = JsonNode.Parse(File.ReadAllText(temp["r2/r2.json"]))!.AsObject();
        Assert.Equal(10, json["bins"]!.GetValue<int>());
        IReadOnlyList<StrategyR2> expected = R2Analysis.Run(samples, StrategySyntax.ParseList("none,bon,br,bw"), 10, FiltrationMode.Drop, 7, 200);
        foreach (StrategyR2 r in expected)
        {
            JsonNode node = json["strategies"]![r.Strategy]!;
            Assert.Equal(r.Kept, node["kept"]!.GetValue<int>());
            Assert.Equal(r.PerResponse.R2, node["per_response"]!["r2"]!.GetValue<double>(), 9);
            Assert.Equal(r.Binned.Fit.R2, node["binned"]!["r2"]!.GetValue<double>(), 9);
            Assert.Equal(r.BinnedInterval.Low, node["binned"]!["ci_low"]!.GetValue<double>(), 9);
        }

        CliRunner.Result bad = CliRunner.Run("r2", "--samples", temp["samples.jsonl"], "--strategies", "none,top:q1.5", "--out", temp["r3"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--strategies: ", bad.StdErr);
        Assert.Contains("q1.5", bad.StdErr);
    }

    [Fact]
    public void RankingAccuracyCountsSamePromptPairsWhoseScoresDifferAndTiesHalf()
    {
        static ScoredSample S(int group, int sample, double score, double reward, string status = "failed") =>
            new($"t/{group}", group, sample, "c", [1], score, score == 1, status, reward, -1);
        ScoredSample[] samples =
        [
            S(0, 0, 1.0, 2.0), S(0, 1, 0.5, 1.0), S(0, 2, 0.0, 1.5),   // pairs (1,.5) right, (1,0) right, (.5,0) wrong
            S(1, 0, 0.5, 0.3), S(1, 1, 0.5, 0.1),                      // equal scores: no pair
            S(2, 0, 1.0, 0.7), S(2, 1, 0.0, 0.7),                      // a reward tie counts half
            S(3, 0, 1.0, -5), S(3, 1, 0.0, 9, status: "error"),        // no verdict: never paired
        ];
        PairAccuracy accuracy = R2Analysis.RankingAccuracy(samples);
        Assert.Equal(4, accuracy.Pairs);
        Assert.Equal(2.5 / 4, accuracy.Accuracy, 12);
        Assert.True(double.IsNaN(R2Analysis.RankingAccuracy([S(0, 0, 1, 1)]).Accuracy));
    }

    [Fact]
    public void TheCommandSamplesAPolicyWhenNoSamplesAreGivenAndWritesThePlots()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliRunner.Run("tasks", "--out", temp["tasks"], "--train", "40", "--test", "4").ExitCode);
        Assert.Equal(0, CliRunner.Run("train-tokenizer", "--input", temp["tasks/train.jsonl"], "--vocab-size", "300", "--out", temp["tok.json"]).ExitCode);
        Assert.Equal(0, CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "32", "--layers", "1", "--heads", "1", "--kv-heads", "1",
            "--intermediate", "64", "--tokenizer", temp["tok.json"], "--out", temp["model"]).ExitCode);

        // A causal LM serves as the reward model too (its score head starts fresh from the seed): enough to check the plumbing.
        CliRunner.Result result = CliRunner.Run("r2", "--policy", temp["model"], "--rm", temp["model"], "--problems", temp["tasks/train.jsonl"],
            "--prompts", "4", "--n", "3", "--max-new-tokens", "8", "--seed", "5", "--bootstrap", "50", "--out", temp["r2"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(temp["r2/samples.jsonl"]);
        Assert.Equal(12, samples.Count);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3 }, samples.Select(s => s.Group));
        Assert.All(samples, s => Assert.NotNull(s.Reward));
        JsonObject json = JsonNode.Parse(File.ReadAllText(temp["r2/r2.json"]))!.AsObject();
        Assert.Equal(12, json["strategies"]!["none"]!["kept"]!.GetValue<int>() + samples.Count(s => !ScoredSamples.HasVerdict(s)));
        Assert.True(json["seconds"]!["generation"]!.GetValue<double>() > 0);
        Assert.True(json["seconds"]!["reward"]!.GetValue<double>() > 0);
        Assert.Equal(R2Analysis.RankingAccuracy(samples).Pairs, json["pair_accuracy"]!["pairs"]!.GetValue<int>());
        foreach (string plot in new[] { "reliability.png", "r2.png" })
        {
            Assert.Equal((PfPpo.Reports.Plots.Width, PfPpo.Reports.Plots.Height), Reports.PlotsTests.ReadPng(temp[$"r2/{plot}"]));
            Assert.Contains($"plot: {temp[$"r2/{plot}"]}", result.StdOut);
        }
        Assert.Contains("seconds: generation ", result.StdOut);

        // The same seed samples the same responses; the written file can be analysed again without the policy.
        CliRunner.Result again = CliRunner.Run("r2", "--samples", temp["r2/samples.jsonl"], "--bootstrap", "50", "--seed", "5", "--out", temp["r2b"]);
        Assert.True(again.ExitCode == 0, again.StdErr);
        Assert.Equal(File.ReadAllText(temp["r2/samples.jsonl"]), File.ReadAllText(temp["r2b/samples.jsonl"]));

        CliRunner.Result noRm = CliRunner.Run("r2", "--policy", temp["model"], "--problems", temp["tasks/train.jsonl"], "--out", temp["r2c"]);
        Assert.NotEqual(0, noRm.ExitCode);
        Assert.Contains("--policy needs --rm", noRm.StdErr);
        CliRunner.Result neither = CliRunner.Run("r2", "--out", temp["r2d"]);
        Assert.NotEqual(0, neither.ExitCode);
        Assert.Contains("--policy (to sample) or --samples", neither.StdErr);
    }
}
