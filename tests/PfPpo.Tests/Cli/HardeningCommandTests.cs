using PfPpo.Tests.Tokenization;

namespace PfPpo.Tests.Cli;

/// <summary>Bad flags, paths and files meet a one-line error (or a capped run with a warning) before any work starts.</summary>
public class HardeningCommandTests
{
    private static string Tokenizer(TempDirectory dir)
    {
        string path = dir["tokenizer.json"];
        File.WriteAllText(path, TokenizerFixture.Qwen2().Merge("d", "e").Merge("de", "f").Added("<|endoftext|>", 300).Json());
        return path;
    }

    private static string Model(TempDirectory dir, int maxPositions)
    {
        string model = dir["model"];
        var result = CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "32", "--layers", "1", "--heads", "4", "--kv-heads", "2",
            "--intermediate", "64", "--tokenizer", Tokenizer(dir), "--out", model, "--max-positions", $"{maxPositions}");
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("parameters; about ", result.StdOut); // the count and the memory estimate, before the work
        return model;
    }

    [Fact]
    public void NumericFlagsOfEveryCommandAreCheckedWithTheirNameAndRange()
    {
        using var dir = new TempDirectory();
        string problems = dir["p.jsonl"];
        File.WriteAllText(problems, "{}\n");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", problems, "--canonical", "--workers", "100000"),
            "--workers must be between 0 (one per core) and ");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", problems, "--canonical", "--timeout", "0"), "--timeout must be a finite number in (0, 3600], got 0");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", problems, "--canonical", "--k", "1,x"), "--k: 'x' is not a positive integer");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", problems), "give exactly one of --samples FILE or --canonical");
        CliRunner.AssertRefused(CliRunner.Run("eval", "--model", dir.Path, "--problems", problems, "--n", "2", "--k", "1,5"), "--k: every k must be at most --n (2), got 5");
        CliRunner.AssertRefused(CliRunner.Run("eval", "--model", dir.Path, "--problems", problems, "--temperature", "NaN"), "--temperature must be a finite number in [0, 100], got NaN");
        CliRunner.AssertRefused(CliRunner.Run("demo", "--threads", "5000", "--out", dir["demo"]), "--threads must be between 1 and ");
        CliRunner.AssertRefused(CliRunner.Run("demo", "--hidden", "48", "--out", dir["demo"]), "--hidden must be a multiple of 32, got 48");
        CliRunner.AssertRefused(CliRunner.Run("train-tokenizer", "--input", problems, "--vocab-size", "10", "--out", dir["t.json"]), "--vocab-size must be between 258 and ");
        CliRunner.AssertRefused(CliRunner.Run("tasks", "--out", dir["tasks"], "--test", "2000000"), "--test must be between 0 and 1000000, got 2000000");
        CliRunner.AssertRefused(CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "0", "--layers", "1", "--heads", "1", "--kv-heads", "1",
            "--intermediate", "8", "--tokenizer", problems, "--out", dir["m"]), "--hidden must be between 1 and ");
        CliRunner.AssertRefused(CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "32", "--layers", "1", "--heads", "1", "--kv-heads", "1",
            "--intermediate", "8", "--tokenizer", problems, "--out", dir["m"], "--max-positions", "-1"), "--max-positions must be between 2 and ");
        Assert.False(Directory.Exists(dir["demo"]));
        Assert.False(Directory.Exists(dir["tasks"]));
        Assert.False(Directory.Exists(dir["m"]));
    }

    [Fact]
    public void OutputAndInputPathsAreCheckedBeforeAnyWorkAndLeaveNoFolderBehind()
    {
        using var dir = new TempDirectory();
        string problems = dir["p.jsonl"];
        File.WriteAllText(problems, "{}\n");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", problems, "--canonical", "--out", dir.Path), $"--out: '{dir.Path}' is a directory; give the path of a file to write.");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", problems, "--canonical", "--out", Path.Combine(problems, "r.jsonl")),
            $"--out: cannot create '{Path.Combine(problems, "r.jsonl")}': '{problems}' is a file, not a folder.");
        CliRunner.AssertRefused(CliRunner.Run("eval", "--model", dir.Path, "--problems", problems, "--out", dir.Path), "--out: ");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", dir.Path, "--canonical"), $"--problems: '{dir.Path}' is a directory, not a file.");
        CliRunner.AssertRefused(CliRunner.Run("sft", "--model", dir.Path, "--data", dir["missing.jsonl"], "--out", dir["run"]), $"--data: no such file '{dir["missing.jsonl"]}'.");
        CliRunner.AssertRefused(CliRunner.Run("sft", "--model", dir.Path, "--data", problems, "--out", problems), $"--out: '{problems}' is a file, not a folder.");
        CliRunner.AssertRefused(CliRunner.Run("tasks", "--out", Path.Combine(problems, "sub", "tasks")), "is a file, not a folder");
        Assert.False(Directory.Exists(dir["run"]));
    }

    [Fact]
    public void GenerationIsCappedAtTheContextAndBadInputsInModelCommandsAreOneLine()
    {
        using var dir = new TempDirectory();
        string model = Model(dir, maxPositions: 16);
        foreach (string huge in new[] { "2147483647", "1000000000" })
        {
            var result = CliRunner.Run("generate", "--model", model, "--prompt", "def", "--max-new-tokens", huge, "--json");
            Assert.True(result.ExitCode == 0, result.StdErr);
            Assert.Contains($"warning: --max-new-tokens {huge} is more than the model's context allows: max_position_embeddings 16", result.StdErr);
            Assert.Contains("\"finish_reasons\":[\"length\"]", result.StdOut.Replace(" ", "", StringComparison.Ordinal));
        }

        CliRunner.AssertRefused(CliRunner.Run("generate", "--model", model, "--prompt", "x", "--stop", ""), "--stop must not be an empty string.");
        CliRunner.AssertRefused(CliRunner.Run("tokenize", "--tokenizer", Path.Combine(model, "tokenizer.json"), "--decode", "--text", "[100,99999,101,-1]"),
            "--text: ids 99999, -1 are not in the vocabulary of ");

        // A lone surrogate escape is a file:line error in every command that reads JSON lines.
        string bad = dir["bad.jsonl"];
        File.WriteAllText(bad, "{\"task_id\": \"t\", \"prompt\": \"def f():\\ud800\", \"completion\": \"x\"}\n");
        CliRunner.AssertRefused(CliRunner.Run("score", "--problems", bad, "--canonical"), $"{bad}:1: invalid JSON (the string at $.prompt is not valid UTF-16");
        CliRunner.AssertRefused(CliRunner.Run("eval", "--model", model, "--problems", bad), $"{bad}:1: invalid JSON");
        CliRunner.AssertRefused(CliRunner.Run("sft", "--model", model, "--data", bad, "--out", dir["run"], "--max-steps", "1"), $"{bad}:1: invalid JSON");
    }

    [Fact]
    public void InitModelRefusesAModelThatCannotFitInMemoryAndSaysTheNumbers()
    {
        using var dir = new TempDirectory();
        var result = CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "65536", "--layers", "64", "--heads", "512", "--kv-heads", "64",
            "--intermediate", "262144", "--tokenizer", Tokenizer(dir), "--out", dir["big"]);
        CliRunner.AssertRefused(result, "parameters needs about ");
        Assert.Contains("GiB available", result.StdErr);
        Assert.False(Directory.Exists(dir["big"]));
    }
}
