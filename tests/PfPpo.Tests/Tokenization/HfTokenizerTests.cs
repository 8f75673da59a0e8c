using System.Text;
using PfPpo.Tokenization;

namespace PfPpo.Tests.Tokenization;

public class HfTokenizerTests
{
    // Expected ids below are derived by hand: byte b has id b, merges get 256, 257, ... in the order added.
    private static TokenizerFixture QwenWithMerges() => TokenizerFixture.Qwen2()
        .Merge(" ", "t")      // 256 " t"
        .Merge("h", "e")      // 257 "he"
        .Merge(" t", "he")    // 258 " the"
        .Merge(" ", " ")      // 259 "  "
        .Merge(" ", "b")      // 260 " b"
        .Merge("1", "2")      // 261 "12"
        .Added("<|endoftext|>", 300)
        .Added("<|im_start|>", 301);

    public static TheoryData<string> RoundTripTexts => new()
    {
        "",
        "def add(a, b):\n    return a + b\n",
        "for (int i = 0; i < n; ++i) {\n\tsum += x[i];\n}",
        "a   b\t\tc  \n\n\n   d   ",
        "  leading and trailing  ",
        "\r\n\r\nwindows\r\nlines",
        "1234567890 3.14159 x1y22z333",
        "naïve café — “quotes” ½ ²",
        "中文字符和日本語のテキスト，한국어",
        "emoji 😀🚀 mixed😀abc 👩‍💻 and 𝑥𝑦 and 𠀀",
        "it's they're I'LL we've",
        "<|endoftext|>",
        "text<|endoftext|>more<|im_start|>user\nhi<|endoftext|>",
    };

    [Theory]
    [MemberData(nameof(RoundTripTexts))]
    public void RoundTripsInEveryStyle(string text)
    {
        foreach (TokenizerFixture fixture in new[] { QwenWithMerges(), TokenizerFixture.Llama3().Merge("3", "4").Added("<|endoftext|>", 400), TokenizerFixture.Gpt2().Merge(" ", "t").Added("<|endoftext|>", 300), TokenizerFixture.DeepSeekCoder().Added("<|endoftext|>", 300) })
        {
            HfTokenizer tokenizer = fixture.Load();
            IReadOnlyList<int> ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.Decode(ids));
            Assert.Equal(text.Length == 0, ids.Count == 0);
        }
    }

    [Fact]
    public void AppliesMergesByRankWithinPreTokens()
    {
        var fixture = QwenWithMerges();
        HfTokenizer tokenizer = fixture.Load();
        // "the" and " the" are separate pre-tokens; "the" has no "t he" merge.
        Assert.Equal([116, 257, 258], tokenizer.Encode("the the"));
        Assert.Equal(258, fixture.Id(" the"));
    }

    [Fact]
    public void QwenSplitsWhitespaceRunsAndSingleDigits()
    {
        HfTokenizer tokenizer = QwenWithMerges().Load();
        // "\s+(?!\S)" leaves the last space of a run to the next word: "a", "  ", " b".
        Assert.Equal([97, 259, 260], tokenizer.Encode("a   b"));
        Assert.Equal(["a", "  ", " b"], tokenizer.PreTokenize("a   b"));
        // Qwen2 isolates every digit, so the "1 2" merge never applies.
        Assert.Equal([49, 50, 51], tokenizer.Encode("123"));
        Assert.Equal(["x", " =", " ", "1", "2", ";\n", "\t  ", " y"], tokenizer.PreTokenize("x = 12;\n\t   y"));
        Assert.Equal(["\n\n", "  ", " return", " a"], tokenizer.PreTokenize("\n\n   return a"));
        Assert.Equal(["It", "'S", " ok", "'ll"], tokenizer.PreTokenize("It'S ok'll"));
    }

    [Fact]
    public void MatchesRegexPerCodePointOutsideTheBmp()
    {
        HfTokenizer qwen = QwenWithMerges().Load();
        // Oniguruma sees one code point: "[^\r\n\p{L}\p{N}]?\p{L}+" takes the emoji with the letters after it.
        Assert.Equal(["😀abc"], qwen.PreTokenize("😀abc"));
        // Mathematical italic letters (U+1D465...) are \p{L}; U+20000 is a CJK ideograph (Lo).
        Assert.Equal(["𝑥𝑦", " 𠀀"], qwen.PreTokenize("𝑥𝑦 𠀀"));
        Assert.Equal([" 😀🚀\n", "x"], qwen.PreTokenize(" 😀🚀\nx"));
    }

    [Fact]
    public void Llama3GroupsDigitsByThreeAndIgnoresMergesForWholeVocabularyTokens()
    {
        var fixture = TokenizerFixture.Llama3().Merge("3", "4").VocabOnly(" hello");
        HfTokenizer tokenizer = fixture.Load();
        // "\p{N}{1,3}": "123" + "4", so the "3 4" merge cannot apply.
        Assert.Equal([49, 50, 51, 52], tokenizer.Encode("1234"));
        Assert.Equal(["123", "45"], tokenizer.PreTokenize("12345"));
        Assert.Equal([257], tokenizer.Encode(" hello"));

        var withoutIgnore = new TokenizerFixture(TokenizerFixture.Sequence(TokenizerFixture.Split(TokenizerFixture.Llama3Pattern), TokenizerFixture.ByteLevel()))
            .Merge("3", "4").VocabOnly(" hello");
        Assert.Equal([32, 104, 101, 108, 108, 111], withoutIgnore.Load().Encode(" hello"));
    }

    [Fact]
    public void Gpt2ByteLevelRegexSplits()
    {
        HfTokenizer tokenizer = TokenizerFixture.Gpt2().Merge(" ", "t").Load();
        Assert.Equal(["Hello", " world", "'s", " 42", "!!", "  ", " x"], tokenizer.PreTokenize("Hello world's 42!!   x"));
        Assert.Equal([256, 111, 112], tokenizer.Encode(" top"));

        var prefixed = new TokenizerFixture(TokenizerFixture.ByteLevel(addPrefixSpace: true, useRegex: true)).Merge(" ", "t").Load();
        Assert.Equal([256, 111, 112], prefixed.Encode("top"));
    }

    [Fact]
    public void DeepSeekCoderSequenceOfSplitsAndDigits()
    {
        HfTokenizer tokenizer = TokenizerFixture.DeepSeekCoder().Load();
        Assert.Equal(["x", " =", " ", "1", "2", ";", "\n", "中文"], tokenizer.PreTokenize("x = 12;\n中文"));
        // The letter class lists astral ranges (Deseret 𐐀-𐑏), which .NET cannot express directly.
        Assert.Equal(["𐐀𐐁b", " c"], tokenizer.PreTokenize("𐐀𐐁b c"));
    }

    [Theory]
    [InlineData("MergedWithPrevious", false, new[] { "a-", "b-", "-", "c" })]
    [InlineData("MergedWithNext", false, new[] { "a", "-b", "-", "-c" })]
    [InlineData("Isolated", false, new[] { "a", "-", "b", "-", "-", "c" })]
    [InlineData("Removed", false, new[] { "a", "b", "c" })]
    [InlineData("Contiguous", false, new[] { "a", "-", "b", "--", "c" })]
    [InlineData("Removed", true, new[] { "-", "-", "-" })]
    public void SplitBehavioursFollowHuggingFace(string behavior, bool invert, string[] expected)
    {
        var fixture = new TokenizerFixture(TokenizerFixture.Sequence(TokenizerFixture.Split("-", behavior, invert), TokenizerFixture.ByteLevel()));
        Assert.Equal(expected, fixture.Load().PreTokenize("a-b--c"));
    }

    [Fact]
    public void RecognisesAddedTokensInsideText()
    {
        HfTokenizer tokenizer = QwenWithMerges().Load();
        Assert.Equal([97, 300, 116, 257], tokenizer.Encode("a<|endoftext|>the"));
        Assert.Equal([301, 300, 300], tokenizer.Encode("<|im_start|><|endoftext|><|endoftext|>"));
        // A broken marker is plain text.
        Assert.DoesNotContain(300, tokenizer.Encode("<|endoftext|"));
    }

    [Fact]
    public void AddedTokenStripAndSingleWordOptions()
    {
        HfTokenizer tokenizer = QwenWithMerges()
            .Added("<mask>", 302, lstrip: true)
            .Added("<sep>", 303, rstrip: true)
            .Added("ab", 304, special: false, singleWord: true)
            .Load();
        Assert.Equal([97, 302, 98], tokenizer.Encode("a  <mask>b"));
        Assert.Equal([97, 303, 98], tokenizer.Encode("a<sep>  b"));
        // "ab" alone matches; inside "cab" it is preceded by a word character and stays plain text.
        Assert.Equal([304, 32, 99, 97, 98], tokenizer.Encode("ab cab"));
    }

    [Fact]
    public void DecodeSkipsSpecialTokensOnRequestAndUnknownIds()
    {
        HfTokenizer tokenizer = QwenWithMerges().Load();
        Assert.Equal("a<|endoftext|>b", tokenizer.Decode([97, 300, 98]));
        Assert.Equal("ab", tokenizer.Decode([97, 300, 98], skipSpecialTokens: true));
        Assert.Equal("ab", tokenizer.Decode([97, 9999, 98]));
        // A lone continuation byte is invalid UTF-8.
        Assert.Equal("a\uFFFD", tokenizer.Decode([97, 0x80]));
    }

    [Fact]
    public void VocabularyLookups()
    {
        HfTokenizer tokenizer = QwenWithMerges().Load();
        Assert.Equal(302, tokenizer.VocabSize);
        Assert.Equal(258, tokenizer.TokenToId("Ġthe"));
        Assert.Equal(300, tokenizer.TokenToId("<|endoftext|>"));
        Assert.Null(tokenizer.TokenToId("Ġzzz"));
        Assert.Equal("Ġthe", tokenizer.IdToToken(258));
        Assert.Equal("<|im_start|>", tokenizer.IdToToken(301));
        Assert.Null(tokenizer.IdToToken(5000));
        Assert.Equal(new Dictionary<string, int> { ["<|endoftext|>"] = 300, ["<|im_start|>"] = 301 }, tokenizer.SpecialTokens);
    }

    [Fact]
    public void NormalizesToNfcBeforeSplitting()
    {
        HfTokenizer tokenizer = QwenWithMerges().Load();
        string decomposed = "cafe\u0301";
        Assert.Equal(tokenizer.Encode("caf\u00E9"), tokenizer.Encode(decomposed));
        Assert.Equal("caf\u00E9", tokenizer.Decode(tokenizer.Encode(decomposed)));
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}}""", "field 'model' is missing")]
    [InlineData("""{"model": {"type": "Unigram", "vocab": []}}""", "field 'model.type'")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}}""", "field 'model.vocab' lacks the byte-level symbol")]
    public void MalformedFilesGiveErrorsNamingTheField(string json, string expected)
    {
        string path = Path.Combine(Path.GetTempPath(), $"pfppo-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            var error = Assert.Throws<TokenizerFormatException>(() => HfTokenizer.Load(path));
            Assert.Contains(path, error.Message);
            Assert.Contains(expected, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnsupportedComponentsAreRejectedNotSilentlyWrong()
    {
        var badBehavior = new TokenizerFixture(TokenizerFixture.Sequence(TokenizerFixture.Split("x", "Sideways"), TokenizerFixture.ByteLevel()));
        Assert.Contains("pre_tokenizer.pretokenizers[0].behavior", Assert.Throws<TokenizerFormatException>(badBehavior.Load).Message);

        var badNormalizer = new TokenizerFixture(TokenizerFixture.ByteLevel(), new System.Text.Json.Nodes.JsonObject { ["type"] = "Replace" });
        Assert.Contains("normalizer.type", Assert.Throws<TokenizerFormatException>(badNormalizer.Load).Message);

        var noByteLevel = new TokenizerFixture(TokenizerFixture.Split("x"));
        Assert.Contains("no ByteLevel step", Assert.Throws<TokenizerFormatException>(noByteLevel.Load).Message);

        var badRegex = new TokenizerFixture(TokenizerFixture.Sequence(TokenizerFixture.Split("(unclosed"), TokenizerFixture.ByteLevel()));
        Assert.Contains("pre_tokenizer.pretokenizers[0].pattern.Regex", Assert.Throws<TokenizerFormatException>(badRegex.Load).Message);

        var fallback = TokenizerFixture.Qwen2();
        string json = fallback.Json().Replace("\"byte_fallback\":false", "\"byte_fallback\":true", StringComparison.Ordinal);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        Assert.Contains("model.byte_fallback", Assert.Throws<TokenizerFormatException>(() => HfTokenizer.Load(stream, "fixture")).Message);

        Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load("/nonexistent/tokenizer.json"));
    }
}
