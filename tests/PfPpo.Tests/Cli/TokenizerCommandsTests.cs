using PfPpo.Tokenization;

namespace PfPpo.Tests.Cli;

public sealed class TokenizerCommandsTests : IDisposable
{
    private readonly TempDirectory _temp = new("pfppo-tok-cli-");

    private string Root => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TrainThenTokenizeAndDecodeMatchTheLibrary()
    {
        string corpus = Path.Combine(Root, "a.py");
        string corpus2 = Path.Combine(Root, "b.py");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("def add(a, b):\n    return a + b\n", 20)));
        File.WriteAllText(corpus2, "print('hello world')\n");
        string output = Path.Combine(Root, "tokenizer.json");

        var train = CliRunner.Run("train-tokenizer", "--input", corpus, corpus2, "--vocab-size", "270", "--out", output);
        Assert.True(train.ExitCode == 0, train.StdErr);
        HfTokenizer tokenizer = HfTokenizer.Load(output);

        string text = "def  add(x):\n\treturn x<|endoftext|> 中文 😀";
        var encode = CliRunner.Run("tokenize", "--tokenizer", output, "--text", text);
        Assert.Equal(0, encode.ExitCode);
        string ids = $"[{string.Join(',', tokenizer.Encode(text))}]";
        Assert.Equal(ids, encode.StdOut.TrimEnd('\n'));
        Assert.Contains(tokenizer.SpecialTokens["<|endoftext|>"].ToString(), ids);

        var decode = CliRunner.Run("tokenize", "--tokenizer", output, "--text", ids, "--decode");
        Assert.Equal(0, decode.ExitCode);
        Assert.Equal(text, decode.StdOut[..^1]);
    }

    [Fact]
    public void UserErrorsPrintOneLineWithoutStackTrace()
    {
        string bad = Path.Combine(Root, "bad.json");
        File.WriteAllText(bad, "{\"model\": 3}");
        var result = CliRunner.Run("tokenize", "--tokenizer", bad, "--text", "x");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.StdErr);
        Assert.Contains("'model'", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);

        var missing = CliRunner.Run("train-tokenizer", "--input", Path.Combine(Root, "none.txt"), "--vocab-size", "300", "--out", Path.Combine(Root, "t.json"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("none.txt", missing.StdErr);
    }
}
