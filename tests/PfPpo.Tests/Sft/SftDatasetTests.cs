using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Sft;
using PfPpo.Training;

namespace PfPpo.Tests.Sft;

public class SftDatasetTests
{
    private static IReadOnlyList<TokenSequence> Sequences(int count) =>
        Enumerable.Range(0, count).Select(i => new TokenSequence([1, 2], Enumerable.Range(3, 1 + i % 7).ToArray())).ToArray();

    [Fact]
    public void EpochBatchesCoverEveryExampleOnceAndDependOnlyOnSeedAndEpoch()
    {
        var sequences = Sequences(103);
        int[] lengths = sequences.Select(s => s.Length).ToArray();
        var a = EpochBatches.OfEpoch(lengths, 8, seed: 5, epoch: 2);
        var b = EpochBatches.OfEpoch(lengths, 8, seed: 5, epoch: 2);
        var c = EpochBatches.OfEpoch(lengths, 8, seed: 5, epoch: 3);
        var stepper = new EpochBatches(lengths, 8, seed: 5);
        Assert.Equal(13, stepper.PerEpoch);
        Assert.Equal(a[4], stepper.ForStep(2 * 13 + 4));
        Assert.Equal(a.SelectMany(x => x), b.SelectMany(x => x));
        Assert.NotEqual(a.SelectMany(x => x), c.SelectMany(x => x));
        Assert.Equal(Enumerable.Range(0, 103), a.SelectMany(x => x).Order());
        Assert.All(a, batch => Assert.InRange(batch.Length, 1, 8));
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
        var sequences = new TokenSequence[] { new([5, 6, 7], [8, 9, 10, 2]), new([11, 12], [13, 2]) };
        using var scope = TorchSharp.torch.NewDisposeScope();
        double Loss(params int[] rows) =>
            SftTrainer.Loss(model, TokenBatch.Collate(rows.Select(r => sequences[r]).ToArray(), 0, Padding.Right)).item<float>();

        double a = Loss(0), b = Loss(1), both = Loss(0, 1);
        // Token-weighted mean over the two rows' completion tokens (4 and 2 of them).
        Assert.Equal((4 * a + 2 * b) / 6, both, 5);
    }

    [Fact]
    public void TokenizeAppendsEosToTheCompletionAndDropsWhatDoesNotFit()
    {
        var tokenizer = PfPpo.Tests.Tokenization.TokenizerFixture.Qwen2().Load();
        (IReadOnlyList<TokenSequence> sequences, int dropped) = SftDataset.Tokenize(
            [new SftExample("def f():\n", "    return 1\n"), new SftExample("x", new string('y', 400))], tokenizer, eosTokenId: 7, maxLength: 64);
        Assert.Equal(1, dropped);
        TokenSequence only = Assert.Single(sequences);
        Assert.Equal(tokenizer.Encode("def f():\n"), only.Prompt);
        Assert.Equal([.. tokenizer.Encode("    return 1\n"), 7], only.Completion);
    }
}
