using System.Text.Json;
using PfPpo.Tokenization;

namespace PfPpo.Tests.Tokenization;

public class BpeTrainerTests
{
    private static readonly string[] Corpus =
    [
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
        "for i in range(10):\n    print(i * i)  # squares\n<|endoftext|>",
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
    ];

    private static HfTokenizer Load(string json)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return HfTokenizer.Load(stream, "trained");
    }

    private static string[] Merges(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("model").GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToArray();

    [Fact]
    public void TrainedTokenizerLoadsRoundTripsAndCompresses()
    {
        string json = BpeTrainer.TrainToJson(Corpus, new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        HfTokenizer tokenizer = Load(json);
        Assert.Equal(300, tokenizer.VocabSize);
        Assert.Equal(new Dictionary<string, int> { ["<|endoftext|>"] = 298, ["<|pad|>"] = 299 }, tokenizer.SpecialTokens);
        foreach (string text in Corpus.Append("unseen 中文 😀 text\t\twith  runs"))
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
        string code = Corpus[0];
        Assert.True(tokenizer.Encode(code).Count < System.Text.Encoding.UTF8.GetByteCount(code) / 2);
        Assert.Equal([298], tokenizer.Encode("<|endoftext|>"));
    }

    [Fact]
    public void TiesAreBrokenBySmallestPairIds()
    {
        // Every pair occurs once: (Ġ=32, c=99) < (a=97, b=98) < ... then "Ġc d" once "Ġ c" exists.
        string json = BpeTrainer.TrainToJson(["ab cd"], new BpeTrainerOptions { VocabSize = 256 + 3 + 2, MinFrequency = 1 });
        Assert.Equal(["Ġ c", "a b", "Ġc d"], Merges(json));
    }

    [Fact]
    public void MostFrequentPairIsMergedFirstAndMinFrequencyStops()
    {
        string json = BpeTrainer.TrainToJson(["xy xy xy zw"], new BpeTrainerOptions { VocabSize = 400 });
        // "xy" occurs 3 times (as "xy" once and " xy" twice), "Ġx" twice; "zw" only once, below MinFrequency 2.
        Assert.Equal(["x y", "Ġ xy"], Merges(json));
    }

    [Fact]
    public void IsDeterministicAndDoesNotLearnFromSpecialTokens()
    {
        var options = new BpeTrainerOptions { VocabSize = 320 };
        string first = BpeTrainer.TrainToJson(Corpus, options);
        Assert.Equal(first, BpeTrainer.TrainToJson(Corpus, options));
        Assert.DoesNotContain(Merges(first), m => m.Contains('|') || m.Contains('<'));
    }

    [Fact]
    public void WritesTheFileAtomically()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"pfppo-bpe-{Guid.NewGuid():N}");
        try
        {
            string path = Path.Combine(directory, "tokenizer.json");
            BpeTrainer.Train(Corpus, new BpeTrainerOptions { VocabSize = 280 }, path);
            Assert.Equal([path], Directory.GetFiles(directory));
            Assert.Equal(280, HfTokenizer.Load(path).VocabSize);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void RejectsBadOptions()
    {
        Assert.Contains("below 258", Assert.Throws<ArgumentException>(() => BpeTrainer.TrainToJson(Corpus, new BpeTrainerOptions { VocabSize = 257 })).Message);
        Assert.Contains("<|endoftext|>", Assert.Throws<ArgumentException>(() => BpeTrainer.TrainToJson(Corpus, new BpeTrainerOptions { VocabSize = 300, SpecialTokens = ["<pad>"] })).Message);
    }
}
