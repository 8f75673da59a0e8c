using System.Text.RegularExpressions;

namespace PfPpo.Benchmarks;

/// <summary>
/// What a code model is asked to continue for a problem, and how its continuation becomes a sample.
/// human-eval styles (HumanEval, HumanEval+, LeetCode, PfPpo's structured tasks) give the prompt as it is and append the
/// completion. MBPP-style problems only have a text description, so the prompt is made human-eval-like: the reference's
/// signature of the function the tests call, with the text and the first test as its docstring; the sample is then the
/// whole program (prompt + completion).
/// </summary>
public sealed partial record EvalPrompt(string Text, SampleKind Kind)
{
    /// <summary>
    /// Stop strings for base-model completions: anything that starts a new top-level statement ends the function body
    /// (the human-eval convention).
    /// </summary>
    public static IReadOnlyList<string> StopStrings { get; } = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert ", "\n#"];

    /// <summary>The sample's code for a completion: the completion itself, or the whole program for text prompts.</summary>
    public string Code(string completion) => Kind == SampleKind.Completion ? completion : Text + completion;

    public static EvalPrompt For(Problem problem)
    {
        bool textOnly = problem.Format == ProblemFormat.Mbpp || !AnyDef().IsMatch(problem.Prompt);
        if (!textOnly)
        {
            return new EvalPrompt(problem.Prompt, SampleKind.Completion);
        }
        string description = Unquote(problem.Prompt.Trim()).Replace("\"\"\"", "'''", StringComparison.Ordinal);
        string? example = problem.TestList.FirstOrDefault()?.Trim();
        string? header = problem.Reference is null ? null : FindHeader(problem.Reference, problem.EntryPoint, example);
        if (header is null)
        {
            // No signature to offer: a comment with the task, and the model writes the whole program.
            string comment = string.Join("\n", description.Split('\n').Select(line => "# " + line));
            return new EvalPrompt(comment + (example is null ? "" : "\n# " + example) + "\n", SampleKind.Solution);
        }
        var docstring = new List<string> { description };
        if (example is not null)
        {
            docstring.Add(example.Replace("\"\"\"", "'''", StringComparison.Ordinal));
        }
        string body = string.Join("\n", string.Join("\n", docstring).Split('\n').Select(line => "    " + line));
        return new EvalPrompt($"{header}\n    \"\"\"\n{body}\n    \"\"\"\n", SampleKind.Solution);
    }

    /// <summary>The text inside a prompt that is one docstring and nothing else (MBPP+ prompts are
    /// <c>"""\ntext\nassert ...\n"""\n</c>); any other prompt as it is.</summary>
    private static string Unquote(string prompt)
    {
        const string quotes = "\"\"\"";
        bool oneDocstring = prompt.Length >= 6 && prompt.StartsWith(quotes, StringComparison.Ordinal)
            && prompt.IndexOf(quotes, 3, StringComparison.Ordinal) == prompt.Length - 3;
        return oneDocstring ? prompt[3..^3].Trim() : prompt;
    }

    /// <summary>The reference's <c>def name(args):</c> line of the function the tests call (top level only).</summary>
    private static string? FindHeader(string reference, string? entryPoint, string? example)
    {
        foreach (Match match in DefLine().Matches(reference))
        {
            string name = match.Groups["name"].Value;
            bool called = entryPoint == name
                || (example is not null && Regex.IsMatch(example, $@"(?<![\w.]){Regex.Escape(name)}\s*\("));
            if (called)
            {
                return match.Value.TrimEnd();
            }
        }
        return null;
    }

    [GeneratedRegex(@"^\s*def [A-Za-z_]\w*\s*\(", RegexOptions.Multiline)]
    private static partial Regex AnyDef();

    // MBPP's original code has CRLF line ends: a multiline $ matches before \n only.
    [GeneratedRegex(@"^def (?<name>[A-Za-z_]\w*)\s*\(.*\)\s*(->[^:]*)?:[ \t\r]*$", RegexOptions.Multiline)]
    private static partial Regex DefLine();
}
