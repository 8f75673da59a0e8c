using System.CommandLine;
using System.Globalization;
using PfPpo.Rewards;
using PfPpo.Runtime;
using PfPpo.Training;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo rm-train</c>: a reward model from preference pairs (Bradley-Terry), as a HF *ForSequenceClassification checkpoint.</summary>
public static class RmTrainCommand
{
    public static Command Create()
    {
        var defaults = new RewardTrainerOptions();
        var shared = ModelOptions.Create(
            model: "Starting checkpoint: a causal LM (the SFT model; its score head starts fresh) or a reward model, with tokenizer.json.",
            output: "Output directory: the reward model, checkpoints/, metrics.jsonl, tensorboard/.",
            seed: "Seed of the head's initialisation, the held-out split and the data order.", modelFlag: "--init");
        var pairs = new Option<string>("--pairs") { Description = "pairs.jsonl: {\"task_id\", \"prompt\", \"chosen\", \"rejected\"[, \"margin\"]} per line.", Required = true }.AcceptExistingFile();
        var epochs = new Option<int>("--epochs") { Description = "Passes over the pairs.", DefaultValueFactory = _ => defaults.Epochs }.InRange(1, 10_000);
        var maxSteps = new Option<int?>("--max-steps") { Description = "Total optimizer steps (overrides --epochs)." }.InRange(1);
        var batchSize = new Option<int>("--batch-size") { Description = "Pairs per step.", DefaultValueFactory = _ => defaults.BatchSize }.InRange(1, 65_536);
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate }.InRange(0, 1, minInclusive: false);
        var warmup = new Option<double>("--warmup") { Description = "Share of steps for linear warmup.", DefaultValueFactory = _ => defaults.WarmupFraction }.InRange(0, 0.99);
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay (matrices only).", DefaultValueFactory = _ => defaults.WeightDecay }.InRange(0, 10);
        var gradClip = new Option<double>("--grad-clip") { Description = "Gradient norm clip.", DefaultValueFactory = _ => defaults.GradClip }.InRange(0, minInclusive: false);
        var maxLength = new Option<int>("--max-length") { Description = "Longest prompt + response in tokens; longer pairs are dropped.", DefaultValueFactory = _ => defaults.MaxLength }.InRange(2, 1 << 20);
        var heldOut = new Option<double>("--held-out") { Description = "Share of prompts held out for pair accuracy.", DefaultValueFactory = _ => defaults.HeldOutFraction }.InRange(0, 0.9);
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out accuracy every N steps (0: at the end only).", DefaultValueFactory = _ => defaults.EvalEvery }.InRange(0);
        var saveEvery = new Option<int>("--save-every") { Description = "Resumable checkpoint every N steps (0: at the end only).", DefaultValueFactory = _ => defaults.SaveEvery }.InRange(0);
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest intact checkpoint in --out." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's checkpoints (deletes them)." };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after N steps in this invocation (resume later)." }.InRange(1);

        var command = new Command("rm-train", "Train a reward model on preference pairs: Bradley-Terry loss, reward at the last token, held-out pair accuracy.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { pairs, epochs, maxSteps, batchSize, learningRate, warmup, weightDecay, gradClip, maxLength,
                     heldOut, evalEvery, saveEvery, resume, force, stopAfter })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            var options = defaults with
            {
                Epochs = parse.GetValue(epochs), MaxSteps = parse.GetValue(maxSteps), BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(learningRate), WarmupFraction = parse.GetValue(warmup), WeightDecay = parse.GetValue(weightDecay),
                GradClip = parse.GetValue(gradClip), MaxLength = parse.GetValue(maxLength), HeldOutFraction = parse.GetValue(heldOut),
                EvalEvery = parse.GetValue(evalEvery), SaveEvery = parse.GetValue(saveEvery), StopAfterSteps = parse.GetValue(stopAfter),
                Seed = common.Seed,
            };
            RewardTrainerResult result = await ProgressDisplay.SingleBarAsync<TrainingProgress, RewardTrainerResult>("reward model",
                p => (p.Step, p.TotalSteps, string.Create(CultureInfo.InvariantCulture, $"RM loss {p.Metrics.GetValueOrDefault("train/loss"):F3}") +
                    (p.Metrics.TryGetValue("eval/accuracy", out double a) ? string.Create(CultureInfo.InvariantCulture, $" held-out acc {a:P1}") : "")),
                progress => RewardTrainer.RunAsync(common.Model!, parse.GetValue(pairs)!, common.Output!, options, common.Device, common.DType,
                    parse.GetValue(resume) ? ResumeMode.Resume : ResumeMode.Fresh, parse.GetValue(force), progress,
                    warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
            var table = new Table().AddColumns("steps", "train loss", "held-out accuracy", "reward mean ± std", "pairs", "dropped", "seconds");
            table.AddRow($"{result.Steps}/{result.TotalSteps}", F(result.FinalTrainLoss, "F4"),
                double.IsNaN(result.HeldOutAccuracy) ? "-" : F(result.HeldOutAccuracy * 100, "F1") + "%",
                $"{F(result.RewardMean, "F3")} ± {F(result.RewardStd, "F3")}", $"{result.TrainPairs} + {result.HeldOutPairs} held out",
                result.DroppedPairs.ToString(CultureInfo.InvariantCulture), F(result.Seconds, "F1"));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(result.Completed
                ? $"reward model: {result.OutputDirectory}"
                : $"stopped after --stop-after steps; continue with --resume (checkpoint in {Path.Combine(result.OutputDirectory, CheckpointStore.FolderName)})");
            return 0;
        }));
        return command;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
