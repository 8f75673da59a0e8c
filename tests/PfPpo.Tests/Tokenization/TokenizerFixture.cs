using System.Text.Json.Nodes;
using PfPpo.Tokenization;

namespace PfPpo.Tests.Tokenization;

/// <summary>
/// Builds small tokenizer.json files in the styles of real models: the 256 byte symbols get ids 0-255 (byte b has
/// id b, so plain ASCII character c has id (int)c), then each merge, in order, gets the next id.
/// </summary>
internal sealed class TokenizerFixture
{
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);
    private readonly JsonArray _merges = [];
    private readonly JsonArray _addedTokens = [];

    public TokenizerFixture(JsonNode? preTokenizer, JsonNode? normalizer = null)
    {
        for (int b = 0; b < 256; b++)
        {
            _vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        }
        Root = new JsonObject
        {
            ["version"] = "1.0",
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
        };
    }

    public JsonObject Root { get; }

    public bool IgnoreMerges { get; init; }

    /// <summary>Id of a token given as plain text (its byte-level spelling is looked up).</summary>
    public int Id(string text) => _vocab[ByteLevelAlphabet.Encode(text)];

    /// <summary>Adds the merge of two plain-text symbols; the merged token gets the next id.</summary>
    public TokenizerFixture Merge(string left, string right)
    {
        string l = ByteLevelAlphabet.Encode(left), r = ByteLevelAlphabet.Encode(right);
        Assert.True(_vocab.ContainsKey(l) && _vocab.ContainsKey(r), $"fixture merge {left}+{right} uses unknown symbols");
        _vocab.TryAdd(l + r, _vocab.Count);
        _merges.Add(_merges.Count % 2 == 0 ? $"{l} {r}" : new JsonArray(l, r)); // both merge spellings occur in real files
        return this;
    }

    /// <summary>Adds a model-vocabulary token that no merge produces (reachable only through ignore_merges).</summary>
    public TokenizerFixture VocabOnly(string text)
    {
        _vocab.TryAdd(ByteLevelAlphabet.Encode(text), _vocab.Count);
        return this;
    }

    public TokenizerFixture Added(string content, int id, bool special = true, bool lstrip = false, bool rstrip = false, bool singleWord = false, bool normalized = false)
    {
        _addedTokens.Add(new JsonObject
        {
            ["id"] = id,
            ["content"] = content,
            ["single_word"] = singleWord,
            ["lstrip"] = lstrip,
            ["rstrip"] = rstrip,
            ["normalized"] = normalized,
            ["special"] = special,
        });
        return this;
    }

    public string Json()
    {
        var vocab = new JsonObject();
        foreach ((string token, int id) in _vocab)
        {
            vocab[token] = id;
        }
        Root["added_tokens"] = _addedTokens.DeepClone();
        Root["model"] = new JsonObject
        {
            ["type"] = "BPE",
            ["dropout"] = null,
            ["unk_token"] = null,
            ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null,
            ["fuse_unk"] = false,
            ["byte_fallback"] = false,
            ["ignore_merges"] = IgnoreMerges,
            ["vocab"] = vocab,
            ["merges"] = _merges.DeepClone(),
        };
        return Root.ToJsonString();
    }

    public HfTokenizer Load()
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Json()));
        return HfTokenizer.Load(stream, "fixture");
    }

    public static JsonObject Split(string regex, string behavior = "Isolated", bool invert = false) => new()
    {
        ["type"] = "Split",
        ["pattern"] = new JsonObject { ["Regex"] = regex },
        ["behavior"] = behavior,
        ["invert"] = invert,
    };

    public static JsonObject ByteLevel(bool addPrefixSpace = false, bool useRegex = false) => new()
    {
        ["type"] = "ByteLevel",
        ["add_prefix_space"] = addPrefixSpace,
        ["trim_offsets"] = false,
        ["use_regex"] = useRegex,
    };

    public static JsonObject Sequence(params JsonNode[] steps) => new() { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(steps) };

    public static JsonObject Nfc() => new() { ["type"] = "NFC" };

    /// <summary>Qwen2 / Qwen2.5-Coder: NFC, then Split(pattern, Isolated) and ByteLevel without regex.</summary>
    public static TokenizerFixture Qwen2() => new(Sequence(Split(Qwen2Pattern), ByteLevel()), Nfc());

    /// <summary>Llama 3: no normalizer, digits in groups of up to three, ignore_merges.</summary>
    public static TokenizerFixture Llama3() => new(Sequence(Split(Llama3Pattern), ByteLevel())) { IgnoreMerges = true };

    /// <summary>GPT-2: a single ByteLevel pre-tokenizer that splits with its built-in pattern.</summary>
    public static TokenizerFixture Gpt2() => new(ByteLevel(addPrefixSpace: false, useRegex: true));

    /// <summary>DeepSeek-Coder: a Sequence of Splits (including a letter class with astral ranges), Digits, ByteLevel.</summary>
    public static TokenizerFixture DeepSeekCoder() => new(Sequence(
        Split(@"[\r\n]"),
        Split(@"\s?[A-Za-zµÀ-ÖØ-öø-ƺ𐐀-𐑏𞤀-𞥃]+"),
        Split(@"\s?[!-/:-@\[-`{-~！-／：-～‘-‟　-。]+"),
        Split(@"\s+$"),
        Split(@"[一-龥ࠀ-一가-퟿]+"),
        new JsonObject { ["type"] = "Digits", ["individual_digits"] = true },
        ByteLevel()));
}
