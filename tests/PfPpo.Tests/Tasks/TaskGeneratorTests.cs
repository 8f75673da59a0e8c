using System.Text.Json;
using PfPpo.Tasks;

namespace PfPpo.Tests.Tasks;

public class TaskGeneratorTests
{
    private static readonly TaskSplits Splits = TaskGenerator.Generate(seed: 7, trainCount: 1500, testCount: 300);

    private static string Text(IEnumerable<CodeTask> tasks) => string.Join('\n', tasks.Select(TaskJsonl.Serialize));

    [Fact]
    public void SameSeedGivesIdenticalTasks()
    {
        TaskSplits again = TaskGenerator.Generate(seed: 7, trainCount: 1500, testCount: 300);
        Assert.Equal(Text(Splits.Train), Text(again.Train));
        Assert.Equal(Text(Splits.Test), Text(again.Test));
        Assert.Equal(Splits.HeldOut, again.HeldOut);
    }

    [Fact]
    public void DifferentSeedsGiveDifferentTasks()
    {
        TaskSplits other = TaskGenerator.Generate(seed: 8, trainCount: 100, testCount: 20);
        Assert.NotEqual(Text(Splits.Train.Take(100)), Text(other.Train));
    }

    [Fact]
    public void TrainingSetDoesNotDependOnTestSize()
    {
        TaskSplits smaller = TaskGenerator.Generate(seed: 7, trainCount: 1500, testCount: 10);
        Assert.Equal(Text(Splits.Train), Text(smaller.Train));
    }

    [Fact]
    public void ValidationSplitIsDisjointAndLeavesTheOtherSplitsUnchanged()
    {
        TaskSplits withValidation = TaskGenerator.Generate(seed: 7, trainCount: 1500, testCount: 300, validationCount: 120);
        Assert.Equal(Text(Splits.Train), Text(withValidation.Train));
        Assert.Equal(Text(Splits.Test), Text(withValidation.Test));
        Assert.Empty(Splits.Validation);
        Assert.Equal(120, withValidation.Validation.Count);
        var seen = withValidation.Train.Concat(withValidation.Test).Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        Assert.All(withValidation.Validation, t => Assert.DoesNotContain(t.Prompt, seen));
        Assert.All(withValidation.Validation, t => Assert.StartsWith("PfPpo/validation/", t.TaskId, StringComparison.Ordinal));
        // drawn like the test split: held-out (family, wording) combinations occur, and every difficulty level
        Assert.Contains(withValidation.Validation, t => t.HeldOut);
        Assert.Equal([1, 2, 3], withValidation.Validation.Select(t => t.Difficulty).Distinct().Order());
    }

    [Fact]
    public void NoTestPromptAppearsInTrainAndPromptsAreUnique()
    {
        var trainPrompts = Splits.Train.Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(Splits.Train.Count, trainPrompts.Count);
        Assert.Equal(Splits.Test.Count, Splits.Test.Select(t => t.Prompt).Distinct(StringComparer.Ordinal).Count());
        Assert.DoesNotContain(Splits.Test, t => trainPrompts.Contains(t.Prompt));
    }

    [Fact]
    public void TestSignaturesAndDescriptionsAreMostlyUnseenInTrain()
    {
        var trainHeaders = Splits.Train.Select(t => TaskGenerator.Header(t.Prompt)).ToHashSet(StringComparer.Ordinal);
        Assert.All(Splits.Test, t => Assert.NotEqual(t.Prompt, TaskGenerator.Header(t.Prompt)));
        int seen = Splits.Test.Count(t => trainHeaders.Contains(TaskGenerator.Header(t.Prompt)));
        Assert.True(seen <= Splits.Test.Count / 20, $"{seen} of {Splits.Test.Count} test tasks differ from a training task only in their examples");
    }

    [Fact]
    public void HeldOutCombinationsAppearOnlyInTest()
    {
        Assert.NotEmpty(Splits.HeldOut);
        var heldOut = Splits.HeldOut.ToHashSet();
        Assert.DoesNotContain(Splits.Train, t => t.HeldOut || heldOut.Contains(new FamilyWording(t.Family, t.Wording)));
        Assert.All(Splits.Test, t => Assert.Equal(heldOut.Contains(new FamilyWording(t.Family, t.Wording)), t.HeldOut));
        Assert.Contains(Splits.Test, t => t.HeldOut);
        // A held-out wording leaves the family's other wordings in training.
        Assert.All(Splits.HeldOut, pair => Assert.Contains(Splits.Train, t => t.Family == pair.Family));
    }

    [Fact]
    public void CountsIdsAndSpreadMatchTheRequest()
    {
        Assert.Equal(1500, Splits.Train.Count);
        Assert.Equal(300, Splits.Test.Count);
        Assert.Equal(Enumerable.Range(0, 1500).Select(i => $"PfPpo/train/{i}"), Splits.Train.Select(t => t.TaskId));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"PfPpo/test/{i}"), Splits.Test.Select(t => t.TaskId));
        Assert.True(TaskFamilies.All.Count >= 20);
        Assert.Equal(TaskFamilies.All.Select(f => f.Name).Order(), Splits.Train.Select(t => t.Family).Distinct().Order());
        Assert.Equal([1, 2, 3], Splits.Test.Select(t => t.Difficulty).Distinct().Order());
    }

    [Fact]
    public void TasksFollowTheHumanEvalFormat()
    {
        Assert.All(Splits.Train.Concat(Splits.Test), task =>
        {
            Assert.StartsWith($"def {task.EntryPoint}(", task.Prompt);
            Assert.EndsWith("    \"\"\"\n", task.Prompt);
            Assert.Contains(">>> " + task.EntryPoint + "(", task.Prompt);
            string[] body = task.CanonicalSolution.TrimEnd('\n').Split('\n');
            Assert.InRange(body.Length, 1, 7);
            Assert.All(body, line => Assert.StartsWith("    ", line));
            Assert.StartsWith("\n\ndef check(candidate):\n", task.Test);
            Assert.InRange(task.IoTests.Count, 5, 10);
            Assert.Equal(task.IoTests.Count, task.Test.Split('\n').Count(l => l.StartsWith("    assert candidate(", StringComparison.Ordinal)));
            Assert.Equal(task.IoTests.Count, task.IoTests.Select(io => io.Input.GetRawText()).Distinct().Count());
            Assert.Equal(TaskFamilies.Get(task.Family).Difficulty, task.Difficulty);
            Assert.InRange(task.Wording, 0, TaskFamilies.Get(task.Family).Wordings - 1);
        });
    }

    [Fact]
    public void IoTestsHoldOnlyIntegersStringsBooleansListsAndDicts()
    {
        static void CheckValue(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Number: Assert.True(value.TryGetInt64(out _), value.GetRawText()); break;
                case JsonValueKind.Array: foreach (JsonElement item in value.EnumerateArray()) { CheckValue(item); } break;
                case JsonValueKind.Object: foreach (JsonProperty p in value.EnumerateObject()) { CheckValue(p.Value); } break;
                default: Assert.Contains(value.ValueKind, new[] { JsonValueKind.String, JsonValueKind.True, JsonValueKind.False, JsonValueKind.Null }); break;
            }
        }
        Assert.All(Splits.Test.SelectMany(t => t.IoTests), io =>
        {
            Assert.Equal(JsonValueKind.Array, io.Input.ValueKind);
            CheckValue(io.Input);
            CheckValue(io.Output);
        });
    }

    [Fact]
    public void EveryFamilyDrawsEveryWording()
    {
        foreach (TaskFamily family in TaskFamilies.All)
        {
            for (int wording = 0; wording < family.Wordings; wording++)
            {
                for (int seed = 0; seed < 30; seed++)
                {
                    var random = new Random(seed);
                    FunctionSpec spec = family.Generate(random, wording);
                    CodeTask task = TaskGenerator.ToTask("t", family, wording, heldOut: false, spec, examples: 2);
                    Assert.InRange(task.IoTests.Count, 5, 10);
                    Assert.False(string.IsNullOrWhiteSpace(spec.Description), $"{family.Name}/{wording}");
                }
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => family.Generate(new Random(0), family.Wordings));
        }
    }

    [Fact]
    public void TooManyTasksForTheFamiliesIsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => TaskGenerator.Generate([new ConstantFamily()], seed: 1, trainCount: 3, testCount: 0));
        Assert.Contains("could not draw 3 distinct train prompts", error.Message);
    }

    /// <summary>A family with two possible prompts (one or two examples of the same call).</summary>
    private sealed class ConstantFamily() : TaskFamily("constant", difficulty: 1, wordings: 1)
    {
        protected override FunctionSpec Create(Random random, int wording) =>
            new("one", [], "int", "Return 1.", ["return 1"], [[], [], [], [], []], _ => 1L);
    }
}
