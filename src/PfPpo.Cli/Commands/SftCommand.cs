using System.CommandLine;
using System.Globalization;
using PfPpo.Runtime;
using PfPpo.Sft;
using PfPpo.Training;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo sft</c>: supervised fine-tuning on prompt/completion pairs (loss on the completion only).</summary>
public static class SftCommand
{
    public static Command Create()
    {
        var defaults = new SftOptions();
        var shared = ModelOptions.Create(
            model: "Hugging Face checkpoint directory to start from (with tokenizer.json).",
            output: "Output directory: final checkpoint, checkpoints/, metrics.jsonl, tensorboard/.",
            seed: "Seed of the data order and held-out split.");
        var data = new Option<string>("--data") { Description = "Training jsonl: {\"prompt\",\"completion\"} or HumanEval lines (prompt + canonical_solution).", Required = true }
            .AcceptExistingFile();
        var evalData = new Option<string?>("--eval-data") { Description = "Held-out jsonl for the periodic loss (default: a share of --data)." }
            .AcceptExistingFile();
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => defaults.Epochs }.InRange(1, 10_000);
        var maxSteps = new Option<int?>("--max-steps") { Description = "Total optimizer steps (overrides --epochs)." }.InRange(1);
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per step.", DefaultValueFactory = _ => defaults.BatchSize }.InRange(1, 65_536);
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate }.InRange(0, 1, minInclusive: false);
        var warmup = new Option<double>("--warmup") { Description = "Share of steps for linear warmup.", DefaultValueFactory = _ => defaults.WarmupFraction }.InRange(0, 0.99);
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay (matrices only).", DefaultValueFactory = _ => defaults.WeightDecay }.InRange(0, 10);
        var gradClip = new Option<double>("--grad-clip") { Description = "Gradient norm clip.", DefaultValueFactory = _ => defaults.GradClip }.InRange(0, minInclusive: false);
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out loss every N steps (0: at the end only).", DefaultValueFactory = _ => defaults.EvalEvery }.InRange(0);
        var saveEvery = new Option<int>("--save-every") { Description = "Resumable checkpoint every N steps (0: at the end only).", DefaultValueFactory = _ => defaults.SaveEvery }.InRange(0);
        var maxLength = new Option<int>("--max-length") { Description = "Longest sequence in tokens; longer examples are dropped.", DefaultValueFactory = _ => defaults.MaxLength }.InRange(2, 1 << 20);
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest intact checkpoint in --out." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's checkpoints (deletes them)." };
        var skipNonFinite = new Option<int>("--skip-nonfinite") { Description = "Steps with NaN/infinite gradients to skip (counted) before stopping (0: stop at the first).", DefaultValueFactory = _ => 0 }.InRange(0, 1000);
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after N steps in this invocation (resume later)." }.InRange(1);

        var command = new Command("sft", "Supervised fine-tuning: completion-only loss, AdamW, warmup + cosine, checkpoints and resume.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { data, evalData, epochs, maxSteps, batchSize, learningRate, warmup,
                     weightDecay, gradClip, evalEvery, saveEvery, maxLength, resume, force, stopAfter, skipNonFinite })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            var options = new SftOptions
            {
                Epochs = parse.GetValue(epochs), MaxSteps = parse.GetValue(maxSteps), BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(learningRate), WarmupFraction = parse.GetValue(warmup),
                WeightDecay = parse.GetValue(weightDecay), GradClip = parse.GetValue(gradClip), EvalEvery = parse.GetValue(evalEvery),
                SaveEvery = parse.GetValue(saveEvery), MaxLength = parse.GetValue(maxLength), Seed = common.Seed,
                StopAfterSteps = parse.GetValue(stopAfter), MaxNonFiniteSkips = parse.GetValue(skipNonFinite),
            };
            SftResult result = await TrainAsync(common.Model!, parse.GetValue(data)!, common.Output!, options,
                parse.GetValue(evalData), parse.GetValue(resume) ? ResumeMode.Resume : ResumeMode.Fresh, parse.GetValue(force),
                common.Device, common.DType, cancellation);
            var table = new Table().AddColumns("steps", "train loss", "held-out loss", "examples", "dropped", "seconds");
            table.AddRow($"{result.Steps}/{result.TotalSteps}", F(result.FinalTrainLoss), result.FinalEvalLoss is double e ? F(e) : "-",
                $"{result.TrainExamples} + {result.HeldOutExamples} held out", result.DroppedExamples.ToString(CultureInfo.InvariantCulture),
                result.Seconds.ToString("F1", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(result.Completed
                ? $"model: {result.OutputDirectory}"
                : $"stopped after --stop-after steps; continue with --resume (checkpoint in {Path.Combine(result.OutputDirectory, CheckpointStore.FolderName)})");
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the trainer under a progress bar; shared with <c>pfppo demo</c>.</summary>
    public static async Task<SftResult> TrainAsync(string modelDir, string dataPath, string outDir, SftOptions options, string? evalData, ResumeMode resume,
        bool force, TorchSharp.torch.Device device, TorchSharp.torch.ScalarType dtype, CancellationToken cancellation)
    {
        return await ProgressDisplay.SingleBarAsync<TrainingProgress, SftResult>("SFT",
            p => (p.Step, p.TotalSteps, string.Create(CultureInfo.InvariantCulture, $"SFT loss {p.Metrics.GetValueOrDefault("train/loss"):F3}") +
                (p.Metrics.TryGetValue("eval/loss", out double e) ? string.Create(CultureInfo.InvariantCulture, $" held-out {e:F3}") : "")),
            progress => SftTrainer.RunAsync(modelDir, dataPath, outDir, options, device, dtype, evalData, resume, force, progress,
                warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
    }

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
