using PfPpo.IO;
using PfPpo.Training;

namespace PfPpo.Tests.Training;

public class SftDatasetTests
{
    private static IReadOnlyList<SftSequence> Sequences(int count) =>
        Enumerable.Range(0, count).Select(i => new SftSequence(Enumerable.Range(1, 3 + i % 7).ToArray(), 2)).ToArray();

    [Fact]
    public void EpochBatchesCoverEveryExampleOnceAndDependOnlyOnSeedAndEpoch()
    {
        var sequences = Sequences(103);
        var a = SftDataset.EpochBatches(sequences, 8, seed: 5, epoch: 2);
        var b = SftDataset.EpochBatches(sequences, 8, seed: 5, epoch: 2);
        var c = SftDataset.EpochBatches(sequences, 8, seed: 5, epoch: 3);
        Assert.Equal(a.SelectMany(x => x), b.SelectMany(x => x));
        Assert.NotEqual(a.SelectMany(x => x), c.SelectMany(x => x));
        Assert.Equal(Enumerable.Range(0, 103), a.SelectMany(x => x).Order());
        Assert.All(a, batch => Assert.InRange(batch.Length, 1, 8));
    }

    [Fact]
    public void CollateRightPadsAndMasksPromptAndPadding()
    {
        var sequences = new[] { new SftSequence(new[] { 5, 6, 7, 8 }, 2), new SftSequence(new[] { 9, 10, 11 }, 1) };
        SftBatch batch = SftDataset.Collate(sequences, new[] { 0, 1 }, padTokenId: 0);
        Assert.Equal(4, batch.Length);
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10, 11, 0 }, batch.InputIds);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 0 }, batch.AttentionMask);
        Assert.Equal(new float[] { 0, 0, 1, 1, 0, 1, 1, 0 }, batch.LossMask);
        Assert.Equal(4, batch.CompletionTokens);
    }

    [Fact]
    public void MalformedLineNamesFileAndLine()
    {
        using var temp = new TempDirectory();
        string path = temp["sft.jsonl"];
        File.WriteAllLines(path, new[]
        {
            """{"prompt": "def f():\n", "completion": "    return 1\n"}""",
            """{"prompt": "def g():\n", "canonical_solution": "    return 2\n"}""",
            """{"prompt": "def h():\n", "completion": 3}""",
        });
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.Contains($"{path}:3", e.Message);
        Assert.Contains("completion", e.Message);
        File.WriteAllLines(path, new[] { """{"prompt": "a", "completion": "b"}""", "{not json" });
        e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.Contains($"{path}:2", e.Message);
    }

    [Fact]
    public void LoadsCompletionAndHumanEvalLines()
    {
        using var temp = new TempDirectory();
        string path = temp["sft.jsonl"];
        File.WriteAllLines(path, new[]
        {
            """{"prompt": "def f():\n", "completion": "    return 1\n"}""",
            "",
            """{"task_id": "x/1", "prompt": "def g():\n", "canonical_solution": "    return 2\n", "entry_point": "g"}""",
        });
        var examples = SftDataset.Load(path);
        Assert.Equal(new[] { new SftExample("def f():\n", "    return 1\n"), new SftExample("def g():\n", "    return 2\n") }, examples);
    }
}
