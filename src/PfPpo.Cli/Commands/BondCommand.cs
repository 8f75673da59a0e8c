using System.CommandLine;
using System.Globalization;
using PfPpo.Bond;
using PfPpo.Runtime;
using PfPpo.Training;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo bond</c>: iterative J-BOND (distil the reward model's Best-of-N of a moving anchor into the policy).</summary>
public static class BondCommand
{
    public static Command Create()
    {
        var d = new BondOptions();
        var shared = ModelOptions.Create(
            model: "The starting policy (an SFT checkpoint with tokenizer.json); also the frozen reference π_ref and the first anchor.",
            output: "Run directory: iteration-I/ (samples.jsonl, logprobs.json, checkpoints/, model/, iteration.json), final/, summary.json, metrics.jsonl, tensorboard/, bond_run.json.",
            seed: "Seed of the prompts, the sampling and the batch order.", modelFlag: "--policy");
        var rm = new Option<string>("--rm") { Description = "Reward model (pfppo rm-train's output) that ranks the samples.", Required = true }.AcceptExistingFolder();
        var problems = new Option<string>("--problems") { Description = "Problems whose prompts are sampled (any supported format).", Required = true }.AcceptExistingFile();
        var iterations = new Option<int>("--iterations") { Description = "Anchor updates: each iteration distils the Best-of-N of the previous iteration's model.", DefaultValueFactory = _ => d.Iterations }.InRange(1, 1000);
        var beta = new Option<double>("--beta") { Description = "β_BOND in [0, 1]: weight of the backward KL in (1-β) KL_fwd + β KL_bwd (1: backward only).", DefaultValueFactory = _ => d.Beta }.InRange(0, 1);
        var n = new Option<int>("--n") { Description = "N of Best-of-N: responses sampled per prompt from the anchor.", DefaultValueFactory = _ => d.SamplesPerPrompt }.InRange(2, 1024);
        var prompts = new Option<int?>("--prompts") { Description = "Prompts per iteration: the first K of a seeded shuffle, new each iteration (default: all)." }.InRange(1);
        var klCoef = new Option<double>("--kl-coef") { Description = "Weight of log π - log π_anchor in the backward reward (1: the divergence itself).", DefaultValueFactory = _ => d.KlCoefficient }.InRange(0, 1000);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature.", DefaultValueFactory = _ => d.Temperature }.InRange(0, 10, minInclusive: false);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => d.TopP }.InRange(0, 1, minInclusive: false);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest sampled (and evaluated) completion.", DefaultValueFactory = _ => d.MaxNewTokens }.InRange(1, 1 << 16);
        var batchSize = new Option<int>("--batch-size") { Description = "Prompts per optimizer step (each with its N responses).", DefaultValueFactory = _ => d.BatchSize }.InRange(1, 65_536);
        var epochs = new Option<int>("--epochs") { Description = "Passes over each iteration's samples.", DefaultValueFactory = _ => d.Epochs }.InRange(1, 10_000);
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate (warmup and cosine within each iteration).", DefaultValueFactory = _ => d.LearningRate }.InRange(0, 1, minInclusive: false);
        var gradClip = new Option<double>("--grad-clip") { Description = "Gradient norm clip.", DefaultValueFactory = _ => d.GradClip }.InRange(0, minInclusive: false);
        var saveEvery = new Option<int>("--save-every") { Description = "Resumable checkpoint every N steps (0: at each iteration's end only).", DefaultValueFactory = _ => d.SaveEvery }.InRange(0);
        var evalProblems = new Option<string?>("--eval-problems") { Description = "Problems of the final greedy pass@1 in the sandbox (summary.json's eval_pass_at_1)." }.AcceptExistingFile();
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate pass@1 on the first K problems only." }.InRange(1);
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var resume = new Option<bool>("--resume") { Description = "Continue in --out: finished iterations are reused, an interrupted one resumes from its samples and checkpoint." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's iterations (deletes them)." };
        Option<string?> config = ConfigFile.CreateOption();

        var command = new Command("bond", "BOND (J-BOND): per iteration, sample N responses per prompt from the anchor and distil their reward-model Best-of-N into the policy.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { rm, problems, iterations, beta, n, prompts, klCoef, temperature, topP, maxNewTokens, batchSize, epochs,
                     learningRate, gradClip, saveEvery, evalProblems, evalLimit, workers, resume, force, config })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (result.GetResult(evalLimit) is { Implicit: false } && result.GetValue(evalProblems) is null)
            {
                result.AddError("--eval-limit needs --eval-problems.");
            }
        });
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            var options = d with
            {
                Iterations = parse.GetValue(iterations), Beta = parse.GetValue(beta), SamplesPerPrompt = parse.GetValue(n), Prompts = parse.GetValue(prompts),
                KlCoefficient = parse.GetValue(klCoef), Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP),
                MaxNewTokens = parse.GetValue(maxNewTokens), BatchSize = parse.GetValue(batchSize), Epochs = parse.GetValue(epochs),
                LearningRate = parse.GetValue(learningRate), GradClip = parse.GetValue(gradClip), SaveEvery = parse.GetValue(saveEvery),
                EvalLimit = parse.GetValue(evalLimit), Workers = parse.GetValue(workers), Seed = common.Seed,
            };
            var inputs = new BondInputs(common.Model!, parse.GetValue(rm)!, parse.GetValue(problems)!, common.Output!, parse.GetValue(evalProblems));
            BondResult result = await ProgressDisplay.SingleBarAsync<BondProgress, BondResult>("BOND",
                p => (p.Done, p.Total, $"BOND iteration {p.Iteration}/{p.Iterations} {p.Phase}"),
                progress => BondTrainer.RunAsync(inputs, options, common.Device, common.DType,
                    parse.GetValue(resume) ? ResumeMode.Resume : ResumeMode.Fresh, parse.GetValue(force), progress,
                    warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
            var table = new Table().AddColumns("iteration", "prompts", "samples", "reward (all)", "reward (best)", "pass rate (all)", "pass rate (best)",
                "loss", "KL to π_ref", "steps", "seconds");
            foreach (BondIteration r in result.Iterations)
            {
                table.AddRow(r.Iteration.ToString(CultureInfo.InvariantCulture), r.Prompts.ToString(CultureInfo.InvariantCulture),
                    r.Samples.ToString(CultureInfo.InvariantCulture), F(r.RewardMean, "F3"), F(r.BestRewardMean, "F3"), Percent(r.PassRate),
                    Percent(r.BestPassRate), F(r.Loss, "F4"), F(r.Kl, "F3"), r.Steps.ToString(CultureInfo.InvariantCulture), F(r.Seconds, "F1"));
            }
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"model: {Path.Combine(result.OutputDirectory, BondTrainer.FinalFolder)}; " +
                (double.IsNaN(result.EvalPassAt1) ? "" : $"pass@1 {Percent(result.EvalPassAt1)}; ") +
                $"summary: {Path.Combine(result.OutputDirectory, BondTrainer.SummaryFile)}" +
                (result.IterationsReused > 0 ? $" ({result.IterationsReused} iteration(s) reused)" : ""));
            return 0;
        }));
        return command;
    }

    private static string F(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Percent(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
