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
    public void CollateRightPadsAndLeavesPromptAndPaddingOutOfTheLoss()
    {
        var sequences = new[] { new SftSequence(new[] { 5, 6, 7, 8 }, 2), new SftSequence(new[] { 9, 10, 11 }, 1) };
        SftBatch batch = SftDataset.Collate(sequences, new[] { 0, 1 }, padTokenId: 0);
        Assert.Equal(4, batch.Length);
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10, 11, 0 }, batch.InputIds);
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

public class CompletionLossTests
{
    [Fact]
    public void RightPaddingDoesNotChangeAnyRowsLoss()
    {
        using var model = PfPpo.Tests.Model.TestModels.Create(PfPpo.Tests.Model.TestModels.Tiny());
        var sequences = new[] { new SftSequence([5, 6, 7, 8, 9, 10, 2], 3), new SftSequence([11, 12, 13, 2], 2) };
        using var scope = TorchSharp.torch.NewDisposeScope();
        double Loss(params int[] rows) =>
            SftTrainer.CompletionLoss(model, SftDataset.Collate(sequences, rows, padTokenId: 0), TorchSharp.torch.CPU).item<float>();

        double a = Loss(0), b = Loss(1), both = Loss(0, 1);
        // Token-weighted mean over the two rows' completion tokens (4 and 2 of them).
        Assert.Equal((4 * a + 2 * b) / 6, both, 5);
    }
}
