using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PfPpo.Tokenization;

/// <summary>Everything <see cref="HfTokenizer"/> needs from a tokenizer.json, validated.</summary>
internal sealed record TokenizerDefinition(
    Dictionary<string, int> Vocab,
    List<string> Merges,
    bool IgnoreMerges,
    TextNormalizer Normalizer,
    IReadOnlyList<PreTokenizerStep> PreTokenizer,
    IReadOnlyList<AddedToken> AddedTokens);

/// <summary>
/// Reads the parts of a Hugging Face tokenizer.json that byte-level BPE uses. Anything it cannot reproduce exactly
/// is rejected with a <see cref="TokenizerFormatException"/> naming the source and the JSON field.
/// </summary>
internal sealed class TokenizerJsonReader(string source)
{
    public TokenizerDefinition Read(Stream json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        using (document)
        {
            JsonElement root = Expect(document.RootElement, JsonValueKind.Object, "(root)");
            JsonElement model = Expect(Required(root, "model", "model"), JsonValueKind.Object, "model");
            (Dictionary<string, int> vocab, List<string> merges, bool ignoreMerges) = ReadModel(model);
            TextNormalizer normalizer = ReadNormalizer(Optional(root, "normalizer"), "normalizer");
            IReadOnlyList<PreTokenizerStep> preTokenizer = ReadPreTokenizer(root);
            IReadOnlyList<AddedToken> addedTokens = ReadAddedTokens(Optional(root, "added_tokens"));
            JsonElement? decoder = Optional(root, "decoder");
            string? decoderType = decoder is null ? null : String(Required(decoder.Value, "type", "decoder.type"), "decoder.type");
            if (decoderType != "ByteLevel")
            {
                throw Error("decoder", $"is {(decoderType ?? "null")}; only the ByteLevel decoder of byte-level BPE is supported");
            }
            return new TokenizerDefinition(vocab, merges, ignoreMerges, normalizer, preTokenizer, addedTokens);
        }
    }

    private (Dictionary<string, int> Vocab, List<string> Merges, bool IgnoreMerges) ReadModel(JsonElement model)
    {
        JsonElement? type = Optional(model, "type");
        if (type is not null && String(type.Value, "model.type") != "BPE")
        {
            throw Error("model.type", $"is '{type.Value.GetString()}'; only BPE models are supported");
        }
        JsonElement? dropout = Optional(model, "dropout");
        if (dropout is not null && Number(dropout.Value, "model.dropout") != 0)
        {
            throw Error("model.dropout", "is set; BPE dropout makes encoding random and is not supported");
        }
        if (Optional(model, "byte_fallback") is { } byteFallback && Bool(byteFallback, "model.byte_fallback"))
        {
            throw Error("model.byte_fallback", "is true; only byte-level BPE (byte_fallback false) is supported");
        }
        foreach (string field in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (Optional(model, field) is { } affix && String(affix, $"model.{field}").Length > 0)
            {
                throw Error($"model.{field}", $"is '{affix.GetString()}'; byte-level BPE without word affixes is supported");
            }
        }
        bool ignoreMerges = Optional(model, "ignore_merges") is { } ignore && Bool(ignore, "model.ignore_merges");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty entry in Expect(Required(model, "vocab", "model.vocab"), JsonValueKind.Object, "model.vocab").EnumerateObject())
        {
            int id = Int(entry.Value, $"model.vocab[\"{entry.Name}\"]");
            if (id < 0)
            {
                throw Error($"model.vocab[\"{entry.Name}\"]", $"has negative id {id}");
            }
            vocab[entry.Name] = id;
        }
        for (int b = 0; b < 256; b++)
        {
            string symbol = ByteLevelAlphabet.ToChar((byte)b).ToString();
            if (!vocab.ContainsKey(symbol))
            {
                throw Error("model.vocab", $"lacks the byte-level symbol '{symbol}' for byte 0x{b:X2}; a byte-level BPE vocabulary needs all 256");
            }
        }

        var merges = new List<string>();
        JsonElement mergesElement = Expect(Required(model, "merges", "model.merges"), JsonValueKind.Array, "model.merges");
        int index = 0;
        foreach (JsonElement merge in mergesElement.EnumerateArray())
        {
            string path = $"model.merges[{index}]";
            (string left, string right) = merge.ValueKind switch
            {
                JsonValueKind.String => SplitMergeString(merge.GetString()!, path),
                JsonValueKind.Array when merge.GetArrayLength() == 2 => (String(merge[0], path + "[0]"), String(merge[1], path + "[1]")),
                _ => throw Error(path, "must be \"left right\" or [\"left\", \"right\"]"),
            };
            if (left.Contains(' ') || right.Contains(' '))
            {
                throw Error(path, "has a part containing a space, which a byte-level vocabulary never has");
            }
            if (!vocab.ContainsKey(left) || !vocab.ContainsKey(right) || !vocab.ContainsKey(left + right))
            {
                throw Error(path, $"merges '{left}' and '{right}', but '{left}', '{right}' or '{left + right}' is not in model.vocab");
            }
            merges.Add($"{left} {right}");
            index++;
        }
        return (vocab, merges, ignoreMerges);
    }

    private (string, string) SplitMergeString(string merge, string path)
    {
        string[] parts = merge.Split(' ');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw Error(path, $"is '{merge}'; expected two symbols separated by one space");
        }
        return (parts[0], parts[1]);
    }

    private TextNormalizer ReadNormalizer(JsonElement? element, string path)
    {
        if (element is null)
        {
            return TextNormalizer.None;
        }
        var steps = new List<Func<string, string>>();
        AddNormalizer(element.Value, path, steps);
        return new TextNormalizer(steps);
    }

    private void AddNormalizer(JsonElement element, string path, List<Func<string, string>> steps)
    {
        Expect(element, JsonValueKind.Object, path);
        string type = String(Required(element, "type", path + ".type"), path + ".type");
        switch (type)
        {
            case "NFC": steps.Add(TextNormalizer.Form(NormalizationForm.FormC)); break;
            case "NFD": steps.Add(TextNormalizer.Form(NormalizationForm.FormD)); break;
            case "NFKC": steps.Add(TextNormalizer.Form(NormalizationForm.FormKC)); break;
            case "NFKD": steps.Add(TextNormalizer.Form(NormalizationForm.FormKD)); break;
            case "Lowercase": steps.Add(TextNormalizer.Lowercase); break;
            case "Sequence":
                int i = 0;
                foreach (JsonElement inner in Expect(Required(element, "normalizers", path + ".normalizers"), JsonValueKind.Array, path + ".normalizers").EnumerateArray())
                {
                    AddNormalizer(inner, $"{path}.normalizers[{i++}]", steps);
                }
                break;
            default:
                throw Error(path + ".type", $"is '{type}'; supported normalizers are NFC, NFD, NFKC, NFKD, Lowercase and Sequence");
        }
    }

    private IReadOnlyList<PreTokenizerStep> ReadPreTokenizer(JsonElement root)
    {
        JsonElement? element = Optional(root, "pre_tokenizer");
        var steps = new List<(PreTokenizerStep Step, string Path)>();
        if (element is not null)
        {
            AddPreTokenizer(element.Value, "pre_tokenizer", steps);
        }
        int byteLevel = steps.FindIndex(s => s.Step is ByteLevelStep);
        if (byteLevel < 0)
        {
            throw Error("pre_tokenizer", "has no ByteLevel step; only byte-level BPE is supported");
        }
        if (byteLevel != steps.Count - 1)
        {
            throw Error(steps[byteLevel + 1].Path, "comes after the ByteLevel step; only a final ByteLevel step is supported");
        }
        return steps.Select(s => s.Step).ToList();
    }

    private void AddPreTokenizer(JsonElement element, string path, List<(PreTokenizerStep, string)> steps)
    {
        Expect(element, JsonValueKind.Object, path);
        string type = String(Required(element, "type", path + ".type"), path + ".type");
        switch (type)
        {
            case "Sequence":
                int i = 0;
                foreach (JsonElement inner in Expect(Required(element, "pretokenizers", path + ".pretokenizers"), JsonValueKind.Array, path + ".pretokenizers").EnumerateArray())
                {
                    AddPreTokenizer(inner, $"{path}.pretokenizers[{i++}]", steps);
                }
                break;
            case "ByteLevel":
                bool addPrefixSpace = Optional(element, "add_prefix_space") is not { } aps || Bool(aps, path + ".add_prefix_space");
                bool useRegex = Optional(element, "use_regex") is not { } ur || Bool(ur, path + ".use_regex");
                steps.Add((new ByteLevelStep(addPrefixSpace, useRegex), path));
                break;
            case "Digits":
                bool individual = Optional(element, "individual_digits") is { } id && Bool(id, path + ".individual_digits");
                steps.Add((new DigitsStep(individual), path));
                break;
            case "Split":
                steps.Add((ReadSplit(element, path), path));
                break;
            default:
                throw Error(path + ".type", $"is '{type}'; supported pre-tokenizers are ByteLevel, Split, Digits and Sequence");
        }
    }

    private SplitStep ReadSplit(JsonElement element, string path)
    {
        JsonElement pattern = Expect(Required(element, "pattern", path + ".pattern"), JsonValueKind.Object, path + ".pattern");
        SplitPattern matcher;
        if (Optional(pattern, "Regex") is { } regex)
        {
            string text = String(regex, path + ".pattern.Regex");
            try
            {
                matcher = RegexSplitPattern.Create(text);
            }
            catch (ArgumentException e)
            {
                throw Error(path + ".pattern.Regex", $"cannot be compiled: {e.Message}");
            }
        }
        else if (Optional(pattern, "String") is { } literal)
        {
            matcher = RegexSplitPattern.Literal(String(literal, path + ".pattern.String"));
        }
        else
        {
            throw Error(path + ".pattern", "must be {\"Regex\": ...} or {\"String\": ...}");
        }
        string behaviorText = String(Required(element, "behavior", path + ".behavior"), path + ".behavior");
        if (!Enum.TryParse(behaviorText, ignoreCase: false, out SplitBehavior behavior) || !Enum.IsDefined(behavior) || char.IsDigit(behaviorText[0]))
        {
            throw Error(path + ".behavior", $"is '{behaviorText}'; expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
        }
        if (Optional(element, "invert") is { } invert && Bool(invert, path + ".invert"))
        {
            matcher = new InvertedPattern(matcher);
        }
        return new SplitStep(matcher, behavior);
    }

    private List<AddedToken> ReadAddedTokens(JsonElement? element)
    {
        var tokens = new List<AddedToken>();
        if (element is null)
        {
            return tokens;
        }
        int i = 0;
        foreach (JsonElement entry in Expect(element.Value, JsonValueKind.Array, "added_tokens").EnumerateArray())
        {
            string path = $"added_tokens[{i++}]";
            Expect(entry, JsonValueKind.Object, path);
            string content = String(Required(entry, "content", path + ".content"), path + ".content");
            if (content.Length == 0)
            {
                throw Error(path + ".content", "is empty");
            }
            bool Flag(string name, bool fallback) => Optional(entry, name) is { } v ? Bool(v, $"{path}.{name}") : fallback;
            tokens.Add(new AddedToken(
                Int(Required(entry, "id", path + ".id"), path + ".id"),
                content,
                Special: Flag("special", false),
                SingleWord: Flag("single_word", false),
                LStrip: Flag("lstrip", false),
                RStrip: Flag("rstrip", false),
                Normalized: Flag("normalized", !Flag("special", false))));
        }
        return tokens;
    }

    private TokenizerFormatException Error(string field, string message) => new($"{source}: field '{field}' {message}.");

    private JsonElement Required(JsonElement parent, string name, string path) =>
        Optional(parent, name) ?? throw Error(path, "is missing");

    /// <summary>The property, or null when it is absent or JSON null.</summary>
    private static JsonElement? Optional(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private JsonElement Expect(JsonElement element, JsonValueKind kind, string path) =>
        element.ValueKind == kind ? element : throw Error(path, $"must be a JSON {kind.ToString().ToLowerInvariant()}, not {element.ValueKind.ToString().ToLowerInvariant()}");

    private string String(JsonElement element, string path) => Expect(element, JsonValueKind.String, path).GetString()!;

    private bool Bool(JsonElement element, string path) => element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error(path, "must be true or false"),
    };

    private double Number(JsonElement element, string path) => Expect(element, JsonValueKind.Number, path).GetDouble();

    private int Int(JsonElement element, string path) =>
        Expect(element, JsonValueKind.Number, path).TryGetInt32(out int value)
            ? value
            : throw Error(path, $"must be a 32-bit integer, not {element.GetRawText().ToString(CultureInfo.InvariantCulture)}");
}
