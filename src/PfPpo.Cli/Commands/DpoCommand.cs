using System.CommandLine;
using System.Globalization;
using PfPpo.Preference;
using PfPpo.Runtime;
using PfPpo.Training;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo dpo</c>: DPO, IPO or KTO on preference pairs, with the reference log-probs computed once and cached.</summary>
public static class DpoCommand
{
    public static Command Create()
    {
        var d = new PreferenceOptions();
        var shared = ModelOptions.Create(
            model: "The starting policy (an SFT checkpoint with tokenizer.json): trained, and frozen as the reference.",
            output: "Run directory: final/ (the trained model), summary.json, metrics.jsonl, tensorboard/, checkpoints/, reference_logprobs.json.",
            seed: "Seed of the held-out split and the data order.", modelFlag: "--policy");
        var pairs = new Option<string>("--pairs") { Description = "pairs.jsonl (pfppo rm-data): {\"task_id\", \"prompt\", \"chosen\", \"rejected\"} per line.", Required = true }.AcceptExistingFile();
        var loss = new Option<string>("--loss") { Description = "dpo: -log σ(β Δρ); ipo: (Δρ - 1/(2β))²; kto: unpaired desirable / undesirable losses around a KL reference point.", DefaultValueFactory = _ => "dpo" };
        loss.AcceptOnlyFromAmong("dpo", "ipo", "kto");
        var beta = new Option<double>("--beta") { Description = "β of the loss.", DefaultValueFactory = _ => d.Beta }.InRange(0, 1000, minInclusive: false);
        var lambdaD = new Option<double>("--lambda-desirable") { Description = "KTO's λ_D.", DefaultValueFactory = _ => d.LambdaDesirable }.InRange(0, 1000);
        var lambdaU = new Option<double>("--lambda-undesirable") { Description = "KTO's λ_U.", DefaultValueFactory = _ => d.LambdaUndesirable }.InRange(0, 1000);
        var epochs = new Option<int>("--epochs") { Description = "Passes over the pairs.", DefaultValueFactory = _ => d.Epochs }.InRange(1, 10_000);
        var maxSteps = new Option<int?>("--max-steps") { Description = "Total optimizer steps (overrides --epochs)." }.InRange(1);
        var batchSize = new Option<int>("--batch-size") { Description = "Pairs per step.", DefaultValueFactory = _ => d.BatchSize }.InRange(1, 65_536);
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => d.LearningRate }.InRange(0, 1, minInclusive: false);
        var warmup = new Option<double>("--warmup") { Description = "Share of steps for linear warmup.", DefaultValueFactory = _ => d.WarmupFraction }.InRange(0, 0.99);
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay (matrices only).", DefaultValueFactory = _ => d.WeightDecay }.InRange(0, 10);
        var gradClip = new Option<double>("--grad-clip") { Description = "Gradient norm clip.", DefaultValueFactory = _ => d.GradClip }.InRange(0, minInclusive: false);
        var maxLength = new Option<int>("--max-length") { Description = "Longest prompt + response (EOS included) in tokens; longer pairs are dropped.", DefaultValueFactory = _ => d.MaxLength }.InRange(2, 1 << 20);
        var heldOut = new Option<double>("--held-out") { Description = "Share of prompts whose pairs are held out for the implicit-reward accuracy.", DefaultValueFactory = _ => d.HeldOutFraction }.InRange(0, 0.9);
        var evalProblems = new Option<string?>("--eval-problems") { Description = "Problems of the final greedy pass@1 in the sandbox (summary.json's eval_pass_at_1)." }.AcceptExistingFile();
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate pass@1 on the first K problems only." }.InRange(1);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest completion of the pass@1 evaluation.", DefaultValueFactory = _ => d.MaxNewTokens }.InRange(1, 1 << 16);
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out pair accuracy every N steps (0: at the end only).", DefaultValueFactory = _ => d.EvalEvery }.InRange(0);
        var saveEvery = new Option<int>("--save-every") { Description = "Resumable checkpoint every N steps (0: at the end only).", DefaultValueFactory = _ => d.SaveEvery }.InRange(0);
        var workers = new Option<int>("--workers") { Description = "Sandbox workers of the pass@1 evaluation (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest intact checkpoint in --out (the cached reference log-probs are reused)." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's checkpoints (deletes them)." };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after N steps in this invocation (resume later)." }.InRange(1);
        var iterations = new Option<int>("--iterations") { Description = "Rounds (iterative DPO; the paper: 3). 1: offline on --pairs. K > 1: round 1 on --pairs, then each round samples the previous round's model on --problems, pairs by --rm score and trains against that model.", DefaultValueFactory = _ => 1 }.InRange(1, 1000);
        var rm = new Option<string?>("--rm") { Description = "Reward model that scores each sampled round's responses (--iterations > 1)." }.AcceptExistingFolder();
        var problems = new Option<string?>("--problems") { Description = "Problems whose prompts the sampled rounds use (--iterations > 1)." }.AcceptExistingFile();
        var prompts = new Option<int?>("--prompts") { Description = "Prompts per sampled round: the first K of a seeded shuffle, new each round (default: all)." }.InRange(1);
        var n = new Option<int>("--n") { Description = "Responses sampled per prompt in a sampled round.", DefaultValueFactory = _ => new IterativeDpoOptions().SamplesPerPrompt }.InRange(2, 1024);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature of the sampled rounds.", DefaultValueFactory = _ => 1.0 }.InRange(0, 10, minInclusive: false);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass of the sampled rounds.", DefaultValueFactory = _ => 1.0 }.InRange(0, 1, minInclusive: false);
        Option<string?> config = ConfigFile.CreateOption();

        var command = new Command("dpo", "DPO, IPO or KTO on preference pairs against the frozen starting policy; reference log-probs computed once and cached.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { pairs, loss, beta, lambdaD, lambdaU, epochs, maxSteps, batchSize, learningRate, warmup, weightDecay,
                     gradClip, maxLength, heldOut, evalProblems, evalLimit, maxNewTokens, evalEvery, saveEvery, workers, resume, force, stopAfter, iterations, rm,
                     problems, prompts, n, temperature, topP, config })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (result.GetResult(evalLimit) is { Implicit: false } && result.GetValue(evalProblems) is null)
            {
                result.AddError("--eval-limit needs --eval-problems.");
            }
            if (result.GetValue(iterations) > 1)
            {
                if (result.GetValue(rm) is null || result.GetValue(problems) is null)
                {
                    result.AddError("--iterations > 1 needs --rm and --problems (the sampled rounds' reward model and prompts).");
                }
                if (result.GetResult(stopAfter) is { Implicit: false })
                {
                    result.AddError("--stop-after works with --iterations 1 only; an iterative run resumes with --resume.");
                }
            }
            else
            {
                foreach (Option option in new Option[] { rm, problems, prompts, n, temperature, topP })
                {
                    if (result.GetResult(option) is { Implicit: false })
                    {
                        result.AddError($"{option.Name} applies to sampled rounds only: give --iterations > 1 too.");
                    }
                }
            }
        });
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            var options = d with
            {
                Loss = parse.GetValue(loss) switch { "ipo" => PreferenceLossKind.Ipo, "kto" => PreferenceLossKind.Kto, _ => PreferenceLossKind.Dpo },
                Beta = parse.GetValue(beta), LambdaDesirable = parse.GetValue(lambdaD), LambdaUndesirable = parse.GetValue(lambdaU),
                Epochs = parse.GetValue(epochs), MaxSteps = parse.GetValue(maxSteps), BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(learningRate), WarmupFraction = parse.GetValue(warmup), WeightDecay = parse.GetValue(weightDecay),
                GradClip = parse.GetValue(gradClip), MaxLength = parse.GetValue(maxLength), HeldOutFraction = parse.GetValue(heldOut),
                EvalEvery = parse.GetValue(evalEvery), SaveEvery = parse.GetValue(saveEvery), StopAfterSteps = parse.GetValue(stopAfter),
                EvalLimit = parse.GetValue(evalLimit), MaxNewTokens = parse.GetValue(maxNewTokens), Workers = parse.GetValue(workers), Seed = common.Seed,
            };
            string name = parse.GetValue(loss)!.ToUpperInvariant();
            ResumeMode resumeMode = parse.GetValue(resume) ? ResumeMode.Resume : ResumeMode.Fresh;
            if (parse.GetValue(iterations) > 1)
            {
                var iterative = new IterativeDpoOptions
                {
                    Iterations = parse.GetValue(iterations), SamplesPerPrompt = parse.GetValue(n), Prompts = parse.GetValue(prompts),
                    Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), MaxNewTokens = options.MaxNewTokens,
                    Preference = options with { EvalLimit = null }, Seed = common.Seed, EvalLimit = options.EvalLimit, Workers = options.Workers,
                };
                var inputs = new IterativeDpoInputs(common.Model!, parse.GetValue(rm)!, parse.GetValue(problems)!, common.Output!, parse.GetValue(pairs),
                    parse.GetValue(evalProblems));
                IterativeDpoResult rounds = await ProgressDisplay.SingleBarAsync<IterativeDpoProgress, IterativeDpoResult>(name,
                    p => (p.Done, p.Total, $"iterative {name} round {p.Round}/{p.Rounds} {p.Phase}"),
                    progress => IterativeDpo.RunAsync(inputs, iterative, common.Device, common.DType, resumeMode, parse.GetValue(force), progress,
                        warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
                var roundTable = new Table().AddColumns("round", "pairs from", "samples", "reward", "pass rate", "pairs", "steps", "train loss",
                    "held-out accuracy", "held-out margin", "seconds");
                foreach (IterativeDpoRound r in rounds.Rounds)
                {
                    roundTable.AddRow(r.Round.ToString(CultureInfo.InvariantCulture), r.PairsSource, r.Samples.ToString(CultureInfo.InvariantCulture),
                        F(r.RewardMean, "F3"), Percent(r.PassRate), r.Pairs.ToString(CultureInfo.InvariantCulture), r.Steps.ToString(CultureInfo.InvariantCulture),
                        F(r.TrainLoss, "F4"), Percent(r.HeldOutAccuracy), F(r.HeldOutMargin, "F3"), F(r.Seconds, "F1"));
                }
                AnsiConsole.Write(roundTable);
                AnsiConsole.WriteLine($"model: {Path.Combine(rounds.OutputDirectory, IterativeDpo.FinalFolder)}; " +
                    (double.IsNaN(rounds.EvalPassAt1) ? "" : $"pass@1 {Percent(rounds.EvalPassAt1)}; ") +
                    $"summary: {Path.Combine(rounds.OutputDirectory, IterativeDpo.SummaryFile)}" +
                    (rounds.RoundsReused > 0 ? $" ({rounds.RoundsReused} round(s) reused)" : ""));
                return 0;
            }
            PreferenceResult result = await ProgressDisplay.SingleBarAsync<TrainingProgress, PreferenceResult>(name,
                p => (p.Step, p.TotalSteps, string.Create(CultureInfo.InvariantCulture,
                    $"{name} loss {p.Metrics.GetValueOrDefault("train/loss"):F3} acc {p.Metrics.GetValueOrDefault("train/accuracy"):P0}") +
                    (p.Metrics.TryGetValue("eval/accuracy", out double a) ? string.Create(CultureInfo.InvariantCulture, $" held-out {a:P1}") : "")),
                progress => PreferenceTrainer.RunAsync(common.Model!, parse.GetValue(pairs)!, common.Output!, options, common.Device, common.DType,
                    parse.GetValue(evalProblems), resumeMode, parse.GetValue(force), progress,
                    warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
            var table = new Table().AddColumns("loss", "steps", "train loss", "held-out accuracy", "held-out margin", "pass@1", "pairs", "dropped",
                "reference", "seconds");
            table.AddRow(name, $"{result.Steps}/{result.TotalSteps}", F(result.FinalTrainLoss, "F4"), Percent(result.HeldOutAccuracy),
                double.IsNaN(result.HeldOutMargin) ? "-" : F(result.HeldOutMargin, "F3"), Percent(result.EvalPassAt1),
                $"{result.TrainPairs} + {result.HeldOutPairs} held out", result.DroppedPairs.ToString(CultureInfo.InvariantCulture),
                result.ReferenceComputed ? "computed" : "cached", F(result.Seconds, "F1"));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(result.Completed
                ? $"model: {Path.Combine(result.OutputDirectory, PreferenceTrainer.FinalFolder)}; summary: {Path.Combine(result.OutputDirectory, PreferenceTrainer.SummaryFile)}"
                : $"stopped after --stop-after steps; continue with --resume (checkpoint in {Path.Combine(result.OutputDirectory, CheckpointStore.FolderName)})");
            return 0;
        }));
        return command;
    }

    private static string F(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Percent(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
