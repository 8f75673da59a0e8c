using PfPpo.IO;
using PfPpo.Rewards;
using PfPpo.Rollouts;

namespace PfPpo.Tests.Rewards;

public class PairBuilderTests
{
    private static ScoredSample S(int group, int sample, string completion, double score, string status = "failed") =>
        new($"t/{group}", group, sample, completion, [1, 2], score, score == 1, score == 1 ? "passed" : status, null, -1.5);

    private static readonly Dictionary<int, string> Prompts = new() { [0] = "def a():\n", [1] = "def b():\n", [2] = "def c():\n" };

    [Fact]
    public void OnePairPerPromptFromTheMostDifferentResponsesWhoseScoresDiffer()
    {
        ScoredSample[] samples =
        [
            S(0, 0, "    return 1\n", 1.0), S(0, 1, "    return 2\n", 0.5), S(0, 2, "    raise ValueError('no')\n", 0.0),
            S(1, 0, "    pass\n", 0.0), S(1, 1, "    return None\n", 0.0),                 // all tie: no pair
            S(2, 0, "    x\n", 0.0, "error"), S(2, 1, "    return 3\n", 1.0),              // the error is no verdict: no pair
        ];
        (IReadOnlyList<PreferencePair> pairs, int without) = PairBuilder.Build(samples, Prompts, PairingMode.MaxEditDistance);
        Assert.Equal(2, without);
        PreferencePair pair = Assert.Single(pairs);
        Assert.Equal(new PreferencePair("t/0", "def a():\n", "    return 1\n", "    raise ValueError('no')\n"), pair);
        Assert.True(PairBuilder.EditDistance(pair.Chosen, pair.Rejected) > PairBuilder.EditDistance("    return 1\n", "    return 2\n")); // ties in distance go to the lowest sample indices

        (IReadOnlyList<PreferencePair> all, int none) = PairBuilder.Build(samples, Prompts, PairingMode.All);
        Assert.Equal(3, all.Count);           // (1, 0.5), (1, 0), (0.5, 0)
        Assert.Equal(2, none);
        Assert.All(all, p => Assert.NotEqual(p.Chosen, p.Rejected));
        Assert.Contains(all, p => p.Chosen == "    return 2\n" && p.Rejected.StartsWith("    raise", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("abc", "", 3)]
    [InlineData("flaw", "lawn", 2)]
    public void EditDistanceIsLevenshtein(string a, string b, int expected)
    {
        Assert.Equal(expected, PairBuilder.EditDistance(a, b));
        Assert.Equal(expected, PairBuilder.EditDistance(b, a));
    }

    [Fact]
    public void ScoredSamplesRoundTripAndBadLinesNameFileLineAndField()
    {
        using var temp = new TempDirectory();
        string path = temp["samples.jsonl"];
        ScoredSample[] samples = [S(0, 0, "    return '\u00e9'\n", 1.0) with { Reward = 0.25 }, S(0, 1, "x", 0.0)];
        ScoredSamples.Write(path, samples);
        IReadOnlyList<ScoredSample> back = ScoredSamples.Read(path);
        Assert.Equal(samples.Length, back.Count);
        for (int i = 0; i < samples.Length; i++)
        {
            Assert.Equal(samples[i] with { Tokens = [] }, back[i] with { Tokens = [] });
            Assert.Equal(samples[i].Tokens, back[i].Tokens);
        }

        File.AppendAllText(path, "{\"task_id\": \"t/9\", \"group\": 9, \"sample\": 0, \"completion\": \"c\", \"tokens\": [1], \"score\": 1, \"passed\": true, \"status\": \"passed\", \"reward\": \"high\", \"logprob\": 0}\n");
        var e = Assert.Throws<DataFormatException>(() => ScoredSamples.Read(path));
        Assert.Contains($"{path}:3", e.Message);
        Assert.Contains("\"reward\" must be a finite number", e.Message);
    }
}
