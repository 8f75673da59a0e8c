using System.CommandLine;
using System.Globalization;
using PfPpo.Filtration;
using PfPpo.Ppo;
using PfPpo.Runtime;
using PfPpo.Training;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo ppo</c>: PPO, PF-PPO, PPO-S or GRPO against a reward model or the execution reward (docs/ppo.md).</summary>
public static class PpoCommand
{
    public static Command Create()
    {
        var d = new PpoOptions();
        var shared = ModelOptions.Create(
            model: "The starting policy (an SFT checkpoint with tokenizer.json): the actor and the frozen reference.",
            output: "Run directory: metrics.jsonl, tensorboard/, checkpoints/, rollouts/, final/ (actor), critic/, best/, summary.json, run_config.json.",
            seed: "Seed of prompts, sampling, filtration and mini-batches.", modelFlag: "--policy");
        var rm = new Option<string?>("--rm") { Description = "Reward model (pfppo rm-train's output); the critic starts from it." };
        var critic = new Option<string?>("--critic") { Description = "Where the critic starts (default: --rm, else the policy with a fresh value head)." };
        var problems = new Option<string>("--problems") { Description = "Training problems jsonl (any supported format).", Required = true }.AcceptExistingFile();
        var evalProblems = new Option<string?>("--eval-problems") { Description = "Held-out problems for the periodic greedy pass@1 (default: --held-out of --problems)." }.AcceptExistingFile();
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on the first K held-out problems only." }.InRange(1);
        var heldOut = new Option<double>("--held-out") { Description = "Share of --problems held out for evaluation when --eval-problems is not given.", DefaultValueFactory = _ => d.HeldOutFraction }.InRange(0, 0.9);
        var algo = new Option<string>("--algo") { Description = "ppo (a critic, GAE); ppo-s (one response per prompt, N times the prompts); grpo (no critic, group-normalised advantages).", DefaultValueFactory = _ => "ppo" };
        algo.AcceptOnlyFromAmong("ppo", "ppo-s", "grpo");
        var filter = new Option<string>("--filter") { Description = "Filtration strategy per prompt group: none (PPO-M), bon, br, bw, ranks:..., top:..., top-random:..., top-bottom:..., pow:k, or auto (highest R² on a calibration rollout).", DefaultValueFactory = _ => d.Filter };
        filter.Validators.Add(result =>
        {
            string text = result.GetValueOrDefault<string>();
            if (!string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    StrategySyntax.Parse(text);
                }
                catch (FormatException e)
                {
                    result.AddError($"--filter: {e.Message}");
                }
            }
        });
        var candidates = new Option<string>("--auto-candidates") { Description = "Strategies --filter auto chooses among.", DefaultValueFactory = _ => string.Join(",", d.AutoCandidates) };
        candidates.Validators.Add(result =>
        {
            try
            {
                StrategySyntax.ParseList(result.GetValueOrDefault<string>());
            }
            catch (FormatException e)
            {
                result.AddError($"--auto-candidates: {e.Message}");
            }
        });
        var mode = new Option<string>("--mode") { Description = "drop: only kept responses train (saves compute); weight: all train, losses weighted by inclusion probability.", DefaultValueFactory = _ => "drop" };
        mode.AcceptOnlyFromAmong("drop", "weight");
        var n = new Option<int>("--n") { Description = "Responses per prompt (PPO-S: the factor on the prompts).", DefaultValueFactory = _ => d.SamplesPerPrompt }.InRange(1, 1000);
        var promptsPerIteration = new Option<int>("--prompts-per-iteration") { Description = "Prompts sampled per iteration.", DefaultValueFactory = _ => d.PromptsPerIteration }.InRange(1, 1_000_000);
        var iterations = new Option<int>("--iterations") { Description = "Rollout-and-update iterations.", DefaultValueFactory = _ => d.Iterations }.InRange(1, 1_000_000);
        var reward = new Option<string>("--reward") { Description = "rm (normalised RM score), execution (sandbox score mapped to [-1, 1]) or rm+execution.", DefaultValueFactory = _ => "rm" };
        reward.AcceptOnlyFromAmong("rm", "execution", "rm+execution");
        var rewardClip = new Option<double>("--reward-clip") { Description = "Clip of the normalised RM reward.", DefaultValueFactory = _ => d.RewardClip }.InRange(0, 1e6, minInclusive: false);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature.", DefaultValueFactory = _ => d.Temperature }.InRange(0, 100, minInclusive: false);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold.", DefaultValueFactory = _ => d.TopP }.InRange(0, 1, minInclusive: false);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest response.", DefaultValueFactory = _ => d.MaxNewTokens }.InRange(1, 1 << 16);
        var klCoef = new Option<double>("--kl-coef") { Description = "β of the KL to the reference (the start value with --kl-target).", DefaultValueFactory = _ => d.KlCoefficient }.InRange(0, 1e3);
        var klEstimator = new Option<string>("--kl-estimator") { Description = "k1 (log ratio) or k3 (exp(-d) + d - 1).", DefaultValueFactory = _ => "k1" };
        klEstimator.AcceptOnlyFromAmong("k1", "k3");
        var klAsLoss = new Option<bool?>("--kl-as-loss") { Description = "KL as a loss term instead of a reward penalty (default: GRPO yes, PPO no)." };
        var klTarget = new Option<double?>("--kl-target") { Description = "Adaptive KL controller's target KL per response (default: fixed β)." }.InRange(0, 1e6, minInclusive: false);
        var gamma = new Option<double>("--gamma") { Description = "Discount γ.", DefaultValueFactory = _ => d.Gamma }.InRange(0, 1);
        var lambda = new Option<double>("--lambda") { Description = "GAE λ.", DefaultValueFactory = _ => d.Lambda }.InRange(0, 1);
        var truncation = new Option<double>("--truncation-penalty") { Description = "Added to the reward of a response cut at --max-new-tokens (e.g. -1).", DefaultValueFactory = _ => 0 }.InRange(-1e6, 1e6);
        var clip = new Option<double>("--clip") { Description = "Ratio clip ε.", DefaultValueFactory = _ => d.ClipRange }.InRange(0, 10, minInclusive: false);
        var valueClip = new Option<double>("--value-clip") { Description = "Value clip (a large value turns it off).", DefaultValueFactory = _ => d.ValueClip }.InRange(0, minInclusive: false);
        var epochs = new Option<int>("--epochs") { Description = "PPO epochs over each iteration's experience.", DefaultValueFactory = _ => d.Epochs }.InRange(1, 1000);
        var miniBatch = new Option<int>("--mini-batch") { Description = "Responses per mini-batch.", DefaultValueFactory = _ => d.MiniBatchSize }.InRange(1, 1_000_000);
        var actorLr = new Option<double>("--actor-lr") { Description = "Actor learning rate.", DefaultValueFactory = _ => d.ActorLearningRate }.InRange(0, 1, minInclusive: false);
        var criticLr = new Option<double>("--critic-lr") { Description = "Critic learning rate.", DefaultValueFactory = _ => d.CriticLearningRate }.InRange(0, 1, minInclusive: false);
        var warmup = new Option<double>("--warmup") { Description = "Share of iterations with linear learning-rate warmup.", DefaultValueFactory = _ => d.WarmupFraction }.InRange(0, 0.99);
        var minLr = new Option<double>("--min-lr-ratio") { Description = "Cosine decay to this share of the peak (1: constant).", DefaultValueFactory = _ => d.MinLearningRateRatio }.InRange(0, 1);
        var gradClip = new Option<double>("--grad-clip") { Description = "Gradient norm clip.", DefaultValueFactory = _ => d.GradClip }.InRange(0, minInclusive: false);
        var criticWarmup = new Option<int>("--critic-warmup") { Description = "First iterations that train the critic only.", DefaultValueFactory = _ => 0 }.InRange(0);
        var targetKl = new Option<double?>("--target-kl") { Description = "Stop an iteration's epochs when a mini-batch's approximate KL exceeds this." }.InRange(0, 1e6, minInclusive: false);
        var whiten = new Option<bool>("--whiten") { Description = "Whiten advantages over the trained tokens (PPO; on by default, --whiten false turns it off).", DefaultValueFactory = _ => true };
        var evalEvery = new Option<int>("--eval-every") { Description = "Held-out greedy pass@1 every N iterations (0: at the end only).", DefaultValueFactory = _ => d.EvalEvery }.InRange(0);
        var saveEvery = new Option<int>("--save-every") { Description = "Resumable checkpoint every N iterations (0: at the end only).", DefaultValueFactory = _ => d.SaveEvery }.InRange(0);
        var calibration = new Option<int>("--calibration-prompts") { Description = "Prompts of the calibration rollout (--filter auto, quantile thresholds).", DefaultValueFactory = _ => d.CalibrationPrompts }.InRange(1, 1_000_000);
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest intact checkpoint in --out." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's checkpoints (deletes them)." };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after N iterations in this invocation (resume later)." }.InRange(1);
        Option<string?> config = ConfigFile.CreateOption();

        var command = new Command("ppo", "PPO / PF-PPO / PPO-S / GRPO for code: per-prompt filtration, RM or execution reward, checkpoints and exact resume.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { rm, critic, problems, evalProblems, evalLimit, heldOut, algo, filter, candidates, mode, n,
                     promptsPerIteration, iterations, reward, rewardClip, temperature, topP, maxNewTokens, klCoef, klEstimator, klAsLoss, klTarget,
                     gamma, lambda, truncation, clip, valueClip, epochs, miniBatch, actorLr, criticLr, warmup, minLr, gradClip, criticWarmup,
                     targetKl, whiten, evalEvery, saveEvery, calibration, workers, resume, force, stopAfter, config })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (result.GetValue(reward) != "execution" && result.GetValue(rm) is null)
            {
                result.AddError($"--reward {result.GetValue(reward)} needs --rm (a reward model); use --reward execution to train on the sandbox's score.");
            }
            if (result.GetValue(algo) == "grpo" && result.GetValue(n) < 2)
            {
                result.AddError("--algo grpo needs --n 2 or more (its advantages compare the responses of a prompt).");
            }
            if (result.GetResult(criticWarmup) is { Implicit: false } && result.GetValue(iterations) > 0
                && result.GetValue(criticWarmup) >= result.GetValue(iterations))
            {
                result.AddError($"--critic-warmup must be below --iterations ({result.GetValue(iterations)}), got {result.GetValue(criticWarmup)}.");
            }
        });
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            var options = new PpoOptions
            {
                Algorithm = parse.GetValue(algo) switch { "ppo-s" => PpoAlgorithm.PpoS, "grpo" => PpoAlgorithm.Grpo, _ => PpoAlgorithm.Ppo },
                Filter = parse.GetValue(filter)!,
                AutoCandidates = StrategySyntax.ParseList(parse.GetValue(candidates)!).Select(s => s.ToString()).ToArray(),
                Mode = parse.GetValue(mode) == "weight" ? FiltrationMode.Weight : FiltrationMode.Drop,
                SamplesPerPrompt = parse.GetValue(n), PromptsPerIteration = parse.GetValue(promptsPerIteration), Iterations = parse.GetValue(iterations),
                Reward = parse.GetValue(reward) switch { "execution" => RewardSource.Execution, "rm+execution" => RewardSource.RmPlusExecution, _ => RewardSource.Rm },
                RewardClip = parse.GetValue(rewardClip), Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP),
                MaxNewTokens = parse.GetValue(maxNewTokens), KlCoefficient = parse.GetValue(klCoef),
                KlEstimator = parse.GetValue(klEstimator) == "k3" ? KlEstimator.K3 : KlEstimator.K1, KlAsLoss = parse.GetValue(klAsLoss),
                KlTarget = parse.GetValue(klTarget), Gamma = parse.GetValue(gamma), Lambda = parse.GetValue(lambda),
                TruncationPenalty = parse.GetValue(truncation), ClipRange = parse.GetValue(clip), ValueClip = parse.GetValue(valueClip),
                Epochs = parse.GetValue(epochs), MiniBatchSize = parse.GetValue(miniBatch), ActorLearningRate = parse.GetValue(actorLr),
                CriticLearningRate = parse.GetValue(criticLr), WarmupFraction = parse.GetValue(warmup), MinLearningRateRatio = parse.GetValue(minLr),
                GradClip = parse.GetValue(gradClip), CriticWarmupIterations = parse.GetValue(criticWarmup), TargetKl = parse.GetValue(targetKl),
                WhitenAdvantages = parse.GetValue(whiten), EvalEvery = parse.GetValue(evalEvery), EvalLimit = parse.GetValue(evalLimit),
                HeldOutFraction = parse.GetValue(heldOut), SaveEvery = parse.GetValue(saveEvery), StopAfterIterations = parse.GetValue(stopAfter),
                Seed = common.Seed, CalibrationPrompts = parse.GetValue(calibration), Workers = parse.GetValue(workers),
            };
            var inputs = new PpoInputs(common.Model!, parse.GetValue(rm), parse.GetValue(problems)!, common.Output!, parse.GetValue(evalProblems),
                parse.GetValue(critic));
            PpoResult result = await TrainAsync(inputs, options, parse.GetValue(resume) ? ResumeMode.Resume : ResumeMode.Fresh, parse.GetValue(force),
                common.Device, common.DType, cancellation);
            var table = new Table().AddColumns("iterations", "filter", "samples trained", "held-out pass@1", "best (iteration)", "seconds");
            table.AddRow($"{result.Iterations}/{result.TotalIterations}", Markup.Escape(result.Filter), result.SamplesTrained.ToString(CultureInfo.InvariantCulture),
                Percent(result.EvalPassAt1), double.IsNaN(result.BestEvalPassAt1) ? "-" : $"{Percent(result.BestEvalPassAt1)} ({result.BestIteration})",
                result.Seconds.ToString("F1", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(result.Completed
                ? $"actor: {Path.Combine(result.OutputDirectory, PpoTrainer.FinalFolder)}; summary: {Path.Combine(result.OutputDirectory, PpoTrainer.SummaryFile)}"
                : $"stopped after --stop-after iterations; continue with --resume (checkpoint in {Path.Combine(result.OutputDirectory, CheckpointStore.FolderName)})");
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the trainer under a progress bar (on stderr); shared with <c>pfppo demo</c>.</summary>
    public static async Task<PpoResult> TrainAsync(PpoInputs inputs, PpoOptions options, ResumeMode resume, bool force,
        TorchSharp.torch.Device device, TorchSharp.torch.ScalarType dtype, CancellationToken cancellation)
    {
        return await ProgressDisplay.SingleBarAsync<TrainingProgress, PpoResult>("PPO",
            p => (p.Step, p.TotalSteps, string.Create(CultureInfo.InvariantCulture,
                $"PPO it {p.Step}/{p.TotalSteps} reward {p.Metrics.GetValueOrDefault("reward_mean"):F2} pass {p.Metrics.GetValueOrDefault("rollout_pass_rate"):P0}") +
                (p.Metrics.TryGetValue("eval_pass_at_1", out double e) ? string.Create(CultureInfo.InvariantCulture, $" held-out {e:P1}") : "")),
            progress => PpoTrainer.RunAsync(inputs, options, device, dtype, resume, force, progress,
                warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
    }

    private static string Percent(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
