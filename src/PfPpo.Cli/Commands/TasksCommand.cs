using System.CommandLine;
using PfPpo.Tasks;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo tasks</c>: generate the embedded code benchmark (train.jsonl, test.jsonl and, if asked for, validation.jsonl).</summary>
public static class TasksCommand
{
    public static Command Create()
    {
        var outOption = new Option<DirectoryInfo>("--out")
        {
            Description = "Directory to write train.jsonl and test.jsonl to (created if missing).",
            Required = true,
        }.AcceptWritableFolder();
        var seedOption = new Option<int>("--seed")
        {
            Description = "Seed; the same seed and counts give identical files.",
            DefaultValueFactory = _ => TaskGenerator.DefaultSeed,
        };
        var trainOption = new Option<int>("--train")
        {
            Description = "Number of training tasks.",
            DefaultValueFactory = _ => TaskGenerator.DefaultTrainCount,
        }.InRange(0, MaxTasks);
        var testOption = new Option<int>("--test")
        {
            Description = "Number of test tasks.",
            DefaultValueFactory = _ => TaskGenerator.DefaultTestCount,
        }.InRange(0, MaxTasks);
        var validationOption = new Option<int>("--validation")
        {
            Description = "Number of validation tasks (validation.jsonl): drawn like the test tasks, disjoint from both splits, for choosing checkpoints; the other splits do not change.",
            DefaultValueFactory = _ => 0,
        }.InRange(0, MaxTasks);

        var command = new Command("tasks", "Generate the embedded code-generation benchmark (HumanEval format plus io_tests).")
        {
            outOption,
            seedOption,
            trainOption,
            testOption,
            validationOption,
        };
        command.SetAction(parseResult => UserErrors.Run(() =>
        {
            DirectoryInfo outDir = parseResult.GetValue(outOption)!;
            int seed = parseResult.GetValue(seedOption);
            {
                TaskSplits splits;
                try
                {
                    splits = TaskGenerator.Generate(seed, parseResult.GetValue(trainOption), parseResult.GetValue(testOption),
                        parseResult.GetValue(validationOption));
                }
                catch (ArgumentException e) when (e.Message.StartsWith("could not draw", StringComparison.Ordinal))
                {
                    // The families hold fewer distinct prompts than asked for: the counts are the user's to lower.
                    throw new UsageException($"--train/--test/--validation: {e.Message}", e);
                }
                outDir.Create();
                string trainPath = Path.Combine(outDir.FullName, "train.jsonl");
                string testPath = Path.Combine(outDir.FullName, "test.jsonl");
                TaskJsonl.Write(trainPath, splits.Train);
                TaskJsonl.Write(testPath, splits.Test);
                if (splits.Validation.Count > 0)
                {
                    string validationPath = Path.Combine(outDir.FullName, "validation.jsonl");
                    TaskJsonl.Write(validationPath, splits.Validation);
                    Console.WriteLine($"wrote {splits.Validation.Count} validation tasks to {validationPath}");
                }
                PrintSummary(splits, seed, trainPath, testPath);
                return 0;
            }
        }));
        return command;
    }

    /// <summary>The most tasks one split may ask for.</summary>
    private const int MaxTasks = 1_000_000;

    private static void PrintSummary(TaskSplits splits, int seed, string trainPath, string testPath)
    {
        var table = new Table().AddColumns("family", "difficulty", "train", "test", "test held out");
        foreach (TaskFamily family in TaskFamilies.All)
        {
            table.AddRow(
                family.Name,
                family.Difficulty.ToString(),
                splits.Train.Count(t => t.Family == family.Name).ToString(),
                splits.Test.Count(t => t.Family == family.Name).ToString(),
                splits.Test.Count(t => t.Family == family.Name && t.HeldOut).ToString());
        }
        table.AddEmptyRow();
        foreach (int difficulty in new[] { 1, 2, 3 })
        {
            table.AddRow(
                $"difficulty {difficulty}",
                "",
                splits.Train.Count(t => t.Difficulty == difficulty).ToString(),
                splits.Test.Count(t => t.Difficulty == difficulty).ToString(),
                splits.Test.Count(t => t.Difficulty == difficulty && t.HeldOut).ToString());
        }
        table.AddRow("total", "", splits.Train.Count.ToString(), splits.Test.Count.ToString(), splits.Test.Count(t => t.HeldOut).ToString());
        AnsiConsole.Write(table);
        Console.WriteLine($"seed {seed}: wrote {splits.Train.Count} tasks to {trainPath} and {splits.Test.Count} to {testPath}");
        Console.WriteLine($"held out of train: {string.Join(", ", splits.HeldOut.Select(p => $"{p.Family}/{p.Wording}"))}");
    }
}
