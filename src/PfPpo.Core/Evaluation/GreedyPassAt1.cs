using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Scoring;
using PfPpo.Tokenization;

namespace PfPpo.Evaluation;

/// <summary>The baselines' final figure: greedy pass@1 of a model on (the first K of) a problems file, in the sandbox.</summary>
public static class GreedyPassAt1
{
    /// <param name="checkpointDir">The checkpoint the model came from (its EOS ids end completions).</param>
    public static async Task<double> EvaluateAsync(CausalLM model, HfTokenizer tokenizer, string checkpointDir, string problemsPath, int? limit,
        int maxNewTokens, int workers, CancellationToken cancellation = default)
    {
        IReadOnlyList<Problem> problems = ProblemSet.Load(problemsPath).Problems;
        if (limit is int k)
        {
            problems = problems.Take(k).ToArray();
        }
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(workers), cancellation);
        using (model.EvalMode())
        {
            EvalReport report = await ModelEvaluator.RunAsync(model, tokenizer, problems,
                new EvalOptions { NumSamples = 1, Temperature = 0, MaxNewTokens = maxNewTokens, Ks = [1], EosTokenIds = HfCheckpoint.LoadEosTokenIds(checkpointDir) },
                scorer, cancellation: cancellation);
            return report.PassAt(1);
        }
    }
}
