
namespace PfPpo.Scoring;

/// <summary>pass@k of one problem. Infrastructure errors are left out of n and c.</summary>
public sealed record ProblemScore(string TaskId, int Samples, int Correct, int Errors, IReadOnlyDictionary<int, double> PassAtK);

/// <summary>Overall pass@k: the mean over problems with at least k scored samples (<see cref="ProblemsCounted"/>).</summary>
public sealed record PassAtKScore(int K, double Value, int ProblemsCounted);

/// <summary>Per-problem and overall results of a scoring run. <see cref="Forgeable"/> counts the samples whose tests
/// ran in the program's own process (the fallback), whose verdicts a hostile program could have forged.</summary>
public sealed record ScoreSummary(
    IReadOnlyList<ProblemScore> Problems,
    IReadOnlyList<PassAtKScore> Overall,
    int Samples,
    int Passed,
    int Failed,
    int TimedOut,
    int Errors,
    int Forgeable = 0)
{
    /// <summary>Groups results by task id (first-seen order) and estimates pass@k for each k.</summary>
    public static ScoreSummary Compute(IReadOnlyList<SampleResult> results, IReadOnlyList<int> ks)
    {
        foreach (int k in ks)
        {
            if (k < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(ks), k, "every k must be at least 1.");
            }
        }
        var problems = new List<ProblemScore>();
        foreach (var group in results.GroupBy(r => r.TaskId, StringComparer.Ordinal))
        {
            int errors = group.Count(r => r.Status == SampleStatus.Error);
            int n = group.Count() - errors;
            int c = group.Count(r => r.Passed);
            var passAtK = ks.Where(k => k <= n).Distinct().ToDictionary(k => k, k => PassAtK.Estimate(n, c, k));
            problems.Add(new ProblemScore(group.Key, n, c, errors, passAtK));
        }
        var overall = ks.Distinct().Select(k =>
        {
            var counted = problems.Where(p => p.PassAtK.ContainsKey(k)).ToList();
            return new PassAtKScore(k, counted.Count == 0 ? double.NaN : counted.Average(p => p.PassAtK[k]), counted.Count);
        }).ToArray();
        return new ScoreSummary(problems, overall, results.Count,
            results.Count(r => r.Status == SampleStatus.Passed), results.Count(r => r.Status == SampleStatus.Failed),
            results.Count(r => r.Status == SampleStatus.Timeout), results.Count(r => r.Status == SampleStatus.Error),
            results.Count(r => r.Forgeable));
    }
}
