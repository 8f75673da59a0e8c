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
}
