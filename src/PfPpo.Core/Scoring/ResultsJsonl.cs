using System.Text.Json;
using PfPpo.Evaluation;
using PfPpo.IO;

namespace PfPpo.Scoring;

/// <summary>
/// The per-sample results schema shared by <c>pfppo score --out</c> and <c>pfppo eval --out</c>: one JSON object a line,
/// in input order, with task_id, passed, status (passed | failed | timeout | error), tests_passed, tests_total,
/// duration_ms, error, tests (per-test verdicts) and output; eval adds sample_index, completion, finish_reason and
/// generated_tokens.
/// </summary>
public static class ResultsJsonl
{
    public static void Write(string path, IReadOnlyList<SampleResult> results) =>
        Write(path, results.Count, (json, i) => WriteFields(json, results[i]));

    public static void Write(string path, IReadOnlyList<EvalSample> samples) => Write(path, samples.Count, (json, i) =>
    {
        EvalSample sample = samples[i];
        WriteFields(json, sample.Score);
        json.WriteNumber("sample_index", sample.SampleIndex);
        json.WriteString("completion", sample.Completion);
        json.WriteString("finish_reason", sample.FinishReason.ToString().ToLowerInvariant());
        json.WriteNumber("generated_tokens", sample.GeneratedTokens);
    });

    private static void Write(string path, int count, Action<Utf8JsonWriter, int> fields) =>
        AtomicFile.Write(path, stream =>
        {
            for (int i = 0; i < count; i++)
            {
                using (var json = new Utf8JsonWriter(stream, JsonLines.WriterOptions))
                {
                    json.WriteStartObject();
                    fields(json, i);
                    json.WriteEndObject();
                }
                stream.WriteByte((byte)'\n');
            }
        });

    /// <summary>The fields every results line has.</summary>
    public static void WriteFields(Utf8JsonWriter json, SampleResult r)
    {
        json.WriteString("task_id", r.TaskId);
        json.WriteBoolean("passed", r.Passed);
        json.WriteString("status", StatusName(r.Status));
        json.WriteNumber("tests_passed", r.TestsPassed);
        json.WriteNumber("tests_total", r.TestsTotal);
        json.WriteNumber("duration_ms", Math.Round(r.DurationMs, 3));
        if (r.Error is null)
        {
            json.WriteNull("error");
        }
        else
        {
            json.WriteString("error", r.Error);
        }
        json.WriteBoolean("forgeable", r.Forgeable);
        if (r.ForgeableReason is not null)
        {
            json.WriteString("forgeable_reason", r.ForgeableReason);
        }

        json.WriteStartArray("tests");
        foreach (TestVerdict t in r.Tests)
        {
            json.WriteStringValue(TestName(t.Status));
        }
        json.WriteEndArray();
        json.WriteString("output", r.Output);
    }

    public static string StatusName(SampleStatus status) => status switch
    {
        SampleStatus.Passed => "passed",
        SampleStatus.Failed => "failed",
        SampleStatus.Timeout => "timeout",
        _ => "error",
    };

    public static string TestName(TestStatus status) => status switch
    {
        TestStatus.Passed => "pass",
        TestStatus.Failed => "fail",
        TestStatus.Timeout => "timeout",
        _ => "error",
    };
}
