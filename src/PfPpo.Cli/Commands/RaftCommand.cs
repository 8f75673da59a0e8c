using System.CommandLine;
using System.Globalization;
using PfPpo.Raft;
using PfPpo.Runtime;
using PfPpo.Training;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo raft</c>: reward-ranked fine-tuning (sample N per prompt, keep the RM's best, SFT on it), for one or more rounds.</summary>
public static class RaftCommand
{
    public static Command Create()
    {
        var d = new RaftOptions();
        var shared = ModelOptions.Create(
            model: "The starting policy (an SFT checkpoint with tokenizer.json).",
            output: "Run directory: round-R/ (samples.jsonl with rewards, kept.jsonl, sft/, round.json), final/, summary.json, raft_run.json.",
            seed: "Seed of the prompts, the sampling and each round's SFT.", modelFlag: "--policy");
        var rm = new Option<string>("--rm") { Description = "Reward model (pfppo rm-train's output) that ranks the samples.", Required = true }.AcceptExistingFolder();
        var problems = new Option<string>("--problems") { Description = "Problems whose prompts are sampled (any supported format).", Required = true }.AcceptExistingFile();
        var n = new Option<int>("--n") { Description = "Responses sampled per prompt.", DefaultValueFactory = _ => d.SamplesPerPrompt }.InRange(1, 1024);
        var prompts = new Option<int?>("--prompts") { Description = "Prompts per round: the first K of a seeded shuffle, new each round (default: all)." }.InRange(1);
        var rounds = new Option<int>("--rounds") { Description = "Rounds of sample, rank, fine-tune (each from the previous round's model).", DefaultValueFactory = _ => d.Rounds }.InRange(1, 1000);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature.", DefaultValueFactory = _ => d.Temperature }.InRange(0, 10, minInclusive: false);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => d.TopP }.InRange(0, 1, minInclusive: false);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest sampled (and evaluated) completion.", DefaultValueFactory = _ => d.MaxNewTokens }.InRange(1, 1 << 16);
        var epochs = new Option<int>("--epochs") { Description = "SFT passes over each round's kept responses.", DefaultValueFactory = _ => d.Sft.Epochs }.InRange(1, 10_000);
        var batchSize = new Option<int>("--batch-size") { Description = "SFT examples per step.", DefaultValueFactory = _ => d.Sft.BatchSize }.InRange(1, 65_536);
        var learningRate = new Option<double>("--lr") { Description = "SFT peak learning rate.", DefaultValueFactory = _ => d.Sft.LearningRate }.InRange(0, 1, minInclusive: false);
        var maxLength = new Option<int>("--max-length") { Description = "Longest prompt + completion in SFT tokens; longer ones are dropped.", DefaultValueFactory = _ => d.Sft.MaxLength }.InRange(2, 1 << 20);
        var evalProblems = new Option<string?>("--eval-problems") { Description = "Problems of the final greedy pass@1 in the sandbox (summary.json's eval_pass_at_1)." }.AcceptExistingFile();
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate pass@1 on the first K problems only." }.InRange(1);
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var resume = new Option<bool>("--resume") { Description = "Continue in --out: finished rounds are reused, an interrupted SFT resumes from its checkpoint." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's rounds (deletes them)." };
        Option<string?> config = ConfigFile.CreateOption();

        var command = new Command("raft", "RAFT: per round, sample N responses per prompt, keep the reward model's best, fine-tune on them (SFT).");
        shared.AddTo(command);
        foreach (Option option in new Option[] { rm, problems, n, prompts, rounds, temperature, topP, maxNewTokens, epochs, batchSize, learningRate,
                     maxLength, evalProblems, evalLimit, workers, resume, force, config })
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
                SamplesPerPrompt = parse.GetValue(n), Prompts = parse.GetValue(prompts), Rounds = parse.GetValue(rounds),
                Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), MaxNewTokens = parse.GetValue(maxNewTokens),
                Sft = d.Sft with
                {
                    Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batchSize), LearningRate = parse.GetValue(learningRate),
                    MaxLength = parse.GetValue(maxLength),
                },
                EvalLimit = parse.GetValue(evalLimit), Workers = parse.GetValue(workers), Seed = common.Seed,
            };
            var inputs = new RaftInputs(common.Model!, parse.GetValue(rm)!, parse.GetValue(problems)!, common.Output!, parse.GetValue(evalProblems));
            RaftResult result = await ProgressDisplay.SingleBarAsync<RaftProgress, RaftResult>("RAFT",
                p => (p.Done, p.Total, $"RAFT round {p.Round}/{p.Rounds} {p.Phase}"),
                progress => RaftTrainer.RunAsync(inputs, options, common.Device, common.DType,
                    parse.GetValue(resume) ? ResumeMode.Resume : ResumeMode.Fresh, parse.GetValue(force), progress,
                    warning => Console.Error.WriteLine($"warning: {warning}"), cancellation));
            var table = new Table().AddColumns("round", "prompts", "samples", "reward (all)", "reward (kept)", "pass rate (all)", "pass rate (kept)",
                "SFT loss", "seconds");
            foreach (RaftRound r in result.Rounds)
            {
                table.AddRow(r.Round.ToString(CultureInfo.InvariantCulture), r.Prompts.ToString(CultureInfo.InvariantCulture),
                    r.Samples.ToString(CultureInfo.InvariantCulture), F(r.RewardMean, "F3"), F(r.KeptRewardMean, "F3"), Percent(r.PassRate),
                    Percent(r.KeptPassRate), F(r.SftLoss, "F4"), F(r.Seconds, "F1"));
            }
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"model: {Path.Combine(result.OutputDirectory, RaftTrainer.FinalFolder)}; " +
                (double.IsNaN(result.EvalPassAt1) ? "" : $"pass@1 {Percent(result.EvalPassAt1)}; ") +
                $"summary: {Path.Combine(result.OutputDirectory, RaftTrainer.SummaryFile)}" +
                (result.RoundsReused > 0 ? $" ({result.RoundsReused} round(s) reused)" : ""));
            return 0;
        }));
        return command;
    }

    private static string F(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Percent(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
