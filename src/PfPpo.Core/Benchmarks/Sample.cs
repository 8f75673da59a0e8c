using System.Text.RegularExpressions;
using PfPpo.IO;

namespace PfPpo.Benchmarks;

/// <summary>How a sample's code relates to its problem.</summary>
public enum SampleKind
{
    /// <summary>Appended to the problem's prompt (human-eval styles); for MBPP it is the whole program.</summary>
    Completion,
    /// <summary>A whole program.</summary>
    Solution,
}

/// <summary>A model-written program for one problem.</summary>
public sealed record Sample(string TaskId, string Code, SampleKind Kind, string Source = "");

/// <summary>Reads samples jsonl: <c>{"task_id", "completion"}</c> or <c>{"task_id", "solution"}</c> per line.</summary>
public static partial class SampleFile
{
    /// <summary>Loads samples (jsonl, a JSON array, or either gzipped) in file order. Code inside markdown fences is extracted.</summary>
    public static IReadOnlyList<Sample> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such samples file", path);
        }

        var samples = new List<Sample>();
        foreach (var (where, obj) in JsonLines.Read(path))
        {
            if (obj.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new DataFormatException($"{where}: expected a JSON object");
            }

            if (!obj.TryGetProperty("task_id", out var id)
                || id.ValueKind is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number))
            {
                throw new DataFormatException($"{where}: missing field 'task_id' (string or number)");
            }
            string taskId = id.ValueKind == System.Text.Json.JsonValueKind.String ? id.GetString()! : id.GetRawText();
            bool hasCompletion = obj.TryGetProperty("completion", out var completion);
            bool hasSolution = obj.TryGetProperty("solution", out var solution);
            if (hasCompletion == hasSolution)
            {
                throw new DataFormatException($"{where}: a sample needs exactly one of 'completion' or 'solution'");
            }
            var code = hasCompletion ? completion : solution;
            if (code.ValueKind != System.Text.Json.JsonValueKind.String)
            {
                throw new DataFormatException($"{where}: field '{(hasCompletion ? "completion" : "solution")}' must be a string");
            }
            samples.Add(new Sample(taskId, ExtractCode(code.GetString()!), hasCompletion ? SampleKind.Completion : SampleKind.Solution, where));
        }
        return samples;
    }

    /// <summary>Code from a chat model's answer: the python fenced blocks joined (any fenced block if none is marked
    /// python); text without fences is returned unchanged.</summary>
    public static string ExtractCode(string text)
    {
        if (!text.Contains("```", StringComparison.Ordinal))
        {
            return text;
        }

        var blocks = Fence().Matches(text);
        if (blocks.Count == 0)
        {
            return text;
        }

        var python = blocks.Where(m => m.Groups["lang"].Value.ToLowerInvariant() is "python" or "py" or "python3").ToList();
        var chosen = python.Count > 0 ? python : blocks.Where(m => m.Groups["lang"].Value.Length == 0).ToList();
        if (chosen.Count == 0)
        {
            chosen = [blocks[0]];
        }

        return string.Join("\n", chosen.Select(m => m.Groups["code"].Value.TrimEnd() + "\n"));
    }

    [GeneratedRegex(@"```[ \t]*(?<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?<code>.*?)(?:```|\z)", RegexOptions.Singleline)]
    private static partial Regex Fence();
}
