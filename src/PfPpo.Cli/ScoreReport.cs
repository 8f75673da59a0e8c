using System.Text.Json;
using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Sandbox;
using PfPpo.Scoring;
using Spectre.Console;

namespace PfPpo.Cli;

/// <summary>How <c>pfppo score</c> and <c>pfppo eval</c> print a <see cref="ScoreSummary"/>: a table, or one JSON object.</summary>
public static class ScoreReport
{
    public static void PrintTable(string title, ScoreSummary summary, IsolationReport isolation, double seconds,
        IReadOnlyList<(string Metric, string Value)>? extra = null)
    {
        var table = new Table().Title(title).AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        foreach (PassAtKScore p in summary.Overall)
        {
            table.AddRow($"pass@{p.K}", double.IsNaN(p.Value) ? "n/a (fewer than k samples)" : $"{p.Value * 100:0.00}% ({p.ProblemsCounted} problems)");
        }
        foreach ((string metric, string value) in extra ?? [])
        {
            table.AddRow(Markup.Escape(metric), Markup.Escape(value));
        }
        table.AddRow("samples", $"{summary.Samples}");
        table.AddRow("passed", $"{summary.Passed}");
        table.AddRow("failed", $"{summary.Failed}");
        table.AddRow("timeout", $"{summary.TimedOut}");
        table.AddRow("error (sandbox or problem)", $"{summary.Errors}");
        table.AddRow("forgeable (tests ran in the program's process)", $"{summary.Forgeable}");
        table.AddRow("problems", $"{summary.Problems.Count}");
        table.AddRow("isolation", isolation.Level.ToString());
        table.AddRow("time", $"{seconds:0.00} s ({summary.Samples / Math.Max(seconds, 1e-9):0.0} programs/s)");
        AnsiConsole.Write(table);
    }

    /// <summary>Writes one JSON object to stdout; <paramref name="extra"/> adds top-level fields.</summary>
    public static void PrintJson(ScoreSummary summary, IsolationReport isolation, double seconds, Action<Utf8JsonWriter>? extra = null)
    {
        using Stream stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, JsonLines.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("samples", summary.Samples);
            json.WriteNumber("passed", summary.Passed);
            json.WriteNumber("failed", summary.Failed);
            json.WriteNumber("timeout", summary.TimedOut);
            json.WriteNumber("error", summary.Errors);
            json.WriteNumber("forgeable", summary.Forgeable);
            json.WriteNumber("problems", summary.Problems.Count);
            json.WriteStartObject("pass_at_k");
            foreach (PassAtKScore p in summary.Overall)
            {
                if (double.IsNaN(p.Value))
                {
                    json.WriteNull($"{p.K}");
                }
                else
                {
                    json.WriteNumber($"{p.K}", p.Value);
                }
            }
            json.WriteEndObject();
            extra?.Invoke(json);
            json.WriteStartArray("per_problem");
            foreach (ProblemScore p in summary.Problems)
            {
                json.WriteStartObject();
                json.WriteString("task_id", p.TaskId);
                json.WriteNumber("n", p.Samples);
                json.WriteNumber("c", p.Correct);
                json.WriteNumber("errors", p.Errors);
                json.WriteStartObject("pass_at_k");
                foreach ((int k, double v) in p.PassAtK)
                {
                    json.WriteNumber($"{k}", v);
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("isolation", isolation.Level.ToString());
            json.WriteStartArray("missing_protections");
            foreach (string m in isolation.Missing)
            {
                json.WriteStringValue(m);
            }
            json.WriteEndArray();
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    /// <summary>Parses a <c>--k</c> list such as <c>1,10</c>.</summary>
    public static int[] ParseKs(string text)
    {
        var ks = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) || k < 1)
            {
                throw new UsageException($"--k: '{part}' is not a positive integer");
            }
            ks.Add(k);
        }
        if (ks.Count == 0)
        {
            throw new UsageException("--k: give at least one value, e.g. --k 1,10");
        }
        return ks.Distinct().ToArray();
    }
}
