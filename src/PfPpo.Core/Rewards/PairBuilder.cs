using PfPpo.Rollouts;

namespace PfPpo.Rewards;

/// <summary>How preference pairs are drawn from a prompt's scored samples.</summary>
public enum PairingMode
{
    /// <summary>One pair per prompt: the two responses with the largest edit distance among those whose actual scores differ (the paper's pairs).</summary>
    MaxEditDistance,

    /// <summary>Every pair of responses whose actual scores differ.</summary>
    All,
}

/// <summary>Builds preference pairs from scored samples: the higher actual score is chosen; ties and sandbox errors give no pair.</summary>
public static class PairBuilder
{
    /// <summary>The pairs, and the number of prompts that gave none (all their scores tie, or too few verdicts).</summary>
    /// <param name="prompts">Each group's prompt text (what the responses continue), by group index.</param>
    public static (IReadOnlyList<PreferencePair> Pairs, int PromptsWithoutPair) Build(IReadOnlyList<ScoredSample> samples,
        IReadOnlyDictionary<int, string> prompts, PairingMode mode)
    {
        var pairs = new List<PreferencePair>();
        int without = 0;
        foreach (IGrouping<int, ScoredSample> group in samples.Where(ScoredSamples.HasVerdict).GroupBy(s => s.Group).OrderBy(g => g.Key))
        {
            ScoredSample[] responses = group.OrderBy(s => s.Sample).ToArray();
            var candidates = new List<(ScoredSample Better, ScoredSample Worse, int Distance)>();
            for (int i = 0; i < responses.Length; i++)
            {
                for (int j = i + 1; j < responses.Length; j++)
                {
                    if (responses[i].Score == responses[j].Score || responses[i].Completion == responses[j].Completion)
                    {
                        continue;
                    }
                    (ScoredSample better, ScoredSample worse) = responses[i].Score > responses[j].Score ? (responses[i], responses[j]) : (responses[j], responses[i]);
                    int distance = mode == PairingMode.MaxEditDistance ? EditDistance(better.Completion, worse.Completion) : 0;
                    candidates.Add((better, worse, distance));
                }
            }
            if (candidates.Count == 0)
            {
                without++;
                continue;
            }
            string prompt = prompts[group.Key];
            IEnumerable<(ScoredSample Better, ScoredSample Worse, int Distance)> chosen = mode == PairingMode.All
                ? candidates
                : [candidates.MaxBy(c => c.Distance)]; // the first of equal distances: the lowest sample indices
            pairs.AddRange(chosen.Select(c => new PreferencePair(c.Better.TaskId, prompt, c.Better.Completion, c.Worse.Completion)));
        }
        return (pairs, without);
    }

    /// <summary>Levenshtein distance between two texts, in characters.</summary>
    public static int EditDistance(string a, string b)
    {
        int[] previous = Enumerable.Range(0, b.Length + 1).ToArray();
        int[] current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
