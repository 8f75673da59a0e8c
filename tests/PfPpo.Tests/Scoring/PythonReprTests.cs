using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Scoring;

namespace PfPpo.Tests.Scoring;

public class PythonReprTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void PlainJsonPrintsAsPythonLiterals()
    {
        Assert.Equal("{'a': [1, 2.5, None], 'b': True, \"it's\": 'x\\ny'}",
            PythonRepr.FromJson(Json("""{"a": [1, 2.5, null], "b": true, "it's": "x\ny"}""")));
    }

    [Fact]
    public void TaggedValuesPrintAsTheirPythonTypes()
    {
        Assert.Equal("{'c': 1, 'd': (2,), 'e': set(), 'f': [0.5, False, None]}", PythonRepr.FromTagged(Json(
            """{"d": [[{"s": "c"}, {"i": "1"}], [{"s": "d"}, {"t": [{"i": "2"}]}], [{"s": "e"}, {"set": []}], [{"s": "f"}, {"l": [{"f": "0.5"}, {"b": false}, {"z": null}]}]]}""")));
    }

    [Fact]
    public async Task AFailedStructuredTestSaysWhatCameBackAndWhatWasExpectedInPython()
    {
        var problem = ProblemSet.Parse(Json("""
            {"task_id": "t/1", "prompt": "def f(s):\n", "canonical_solution": "    return {}\n", "test": "", "entry_point": "f",
             "io_tests": [{"input": ["ab"], "output": {"a": 1, "b": 1}}]}
            """), "inline:1");
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(Workers: 1));
        SampleResult result = await scorer.ScoreOneAsync(new ScoreRequest(problem, "    return {'a': 1, 'b': (2, 'x')}\n"));
        Assert.Equal(SampleStatus.Failed, result.Status);
        Assert.Equal("returned {'a': 1, 'b': (2, 'x')}, expected {'a': 1, 'b': 1}", result.Error);
    }
}
