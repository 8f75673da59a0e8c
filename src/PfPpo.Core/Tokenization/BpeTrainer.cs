using System.Text;
using System.Text.Json;
using PfPpo.IO;

namespace PfPpo.Tokenization;

/// <summary>Settings for <see cref="BpeTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Total ids: 256 byte symbols + merges + special tokens.</summary>
    public required int VocabSize { get; init; }

    /// <summary>Special tokens, given the last ids in this order. Must include "&lt;|endoftext|&gt;" (the EOS of the embedded models).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = BpeTrainer.DefaultSpecialTokens;

    /// <summary>A pair must occur at least this often (counting pre-token frequencies) to be merged; training stops earlier otherwise.</summary>
    public int MinFrequency { get; init; } = 2;
}

/// <summary>
/// Trains a byte-level BPE tokenizer and writes it as a Hugging Face tokenizer.json in the Qwen2 form (NFC,
/// Split(Qwen2 pattern, Isolated) then ByteLevel, ByteLevel decoder), which <see cref="HfTokenizer.Load(string)"/>
/// and Hugging Face's <c>tokenizers</c> read. Byte b has id b; merge k creates id 256 + k; special tokens follow.
/// </summary>
/// <remarks>
/// Pair counts are kept over unique pre-tokens weighted by frequency and updated only for the pre-tokens a merge
/// touches. Deterministic: the most frequent pair wins, ties go to the smaller (left id, right id).
/// Special tokens found in the training text are cut out and not learnt from.
/// </remarks>
public static class BpeTrainer
{
    /// <summary>Qwen2's pre-tokenizer pattern (also Llama 3's except that digits are split one by one).</summary>
    public const string SplitPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>"&lt;|endoftext|&gt;" (end of text; EOS) and "&lt;|pad|&gt;" (padding).</summary>
    public static IReadOnlyList<string> DefaultSpecialTokens { get; } = ["<|endoftext|>", "<|pad|>"];

    /// <summary>Trains on <paramref name="texts"/> and writes the tokenizer.json to <paramref name="outputPath"/> (atomically).</summary>
    public static void Train(IEnumerable<string> texts, BpeTrainerOptions options, string outputPath) =>
        AtomicFile.WriteAllText(outputPath, TrainToJson(texts, options));

    /// <summary>Trains on <paramref name="texts"/> and returns the tokenizer.json text.</summary>
    public static string TrainToJson(IEnumerable<string> texts, BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);

        // Pre-tokenize with the very tokenizer being trained (no merges yet), so training and encoding agree.
        var tokens = new List<string>(options.VocabSize);
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteLevelAlphabet.ToChar((byte)b).ToString());
        }
        HfTokenizer pipeline = Load(ToJson(tokens, [], options.SpecialTokens));
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            foreach ((string? preToken, AddedToken? _) in pipeline.Segment(text))
            {
                if (preToken is not null)
                {
                    string mapped = ByteLevelAlphabet.Encode(preToken);
                    wordCounts[mapped] = wordCounts.GetValueOrDefault(mapped) + 1;
                }
            }
        }

        var merges = new List<(int Left, int Right)>();
        LearnMerges(wordCounts, options.VocabSize - options.SpecialTokens.Count, options.MinFrequency, tokens, merges);
        return ToJson(tokens, merges, options.SpecialTokens);
    }

    private static void Validate(BpeTrainerOptions options)
    {
        if (options.SpecialTokens.Count != options.SpecialTokens.Distinct(StringComparer.Ordinal).Count() || options.SpecialTokens.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("special tokens must be distinct and non-empty.", nameof(options));
        }
        if (!options.SpecialTokens.Contains("<|endoftext|>"))
        {
            throw new ArgumentException("special tokens must include <|endoftext|>.", nameof(options));
        }
        int minimum = 256 + options.SpecialTokens.Count;
        if (options.VocabSize < minimum)
        {
            throw new ArgumentException($"vocab size {options.VocabSize} is below {minimum} (256 byte symbols + {options.SpecialTokens.Count} special tokens).", nameof(options));
        }
        if (options.MinFrequency < 1)
        {
            throw new ArgumentException($"minimum frequency {options.MinFrequency} must be at least 1.", nameof(options));
        }
    }

    private static void LearnMerges(Dictionary<string, long> wordCounts, int targetTokens, int minFrequency, List<string> tokens, List<(int, int)> merges)
    {
        // Words in a fixed order (ordinal) so that everything downstream is deterministic.
        var words = wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => (Symbols: w.Key.Select(c => (int)ByteLevelAlphabet.ToByte(c)).ToList(), Count: w.Value))
            .ToArray();
        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        for (int w = 0; w < words.Length; w++)
        {
            AddPairs(words[w].Symbols, words[w].Count, w, pairCounts, pairWords, touched: null);
        }
        // Max-heap on count, then min on (left, right); stale entries are skipped when popped.
        var queue = new PriorityQueue<(int, int), (long NegativeCount, int Left, int Right)>();
        foreach (((int, int) pair, long count) in pairCounts)
        {
            queue.Enqueue(pair, (-count, pair.Item1, pair.Item2));
        }
        var touched = new HashSet<(int, int)>();
        var tokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++)
        {
            tokenIds[tokens[id]] = id;
        }
        while (tokens.Count < targetTokens && queue.TryDequeue(out (int Left, int Right) pair, out var priority))
        {
            long count = pairCounts.GetValueOrDefault(pair);
            if (count != -priority.NegativeCount)
            {
                continue; // stale; the current count was queued when it changed
            }
            if (count < minFrequency)
            {
                break;
            }
            // Two different merges can spell the same token ("a"+"bc", "ab"+"c"): it keeps its first id.
            string mergedText = tokens[pair.Left] + tokens[pair.Right];
            if (!tokenIds.TryGetValue(mergedText, out int merged))
            {
                merged = tokens.Count;
                tokens.Add(mergedText);
                tokenIds[mergedText] = merged;
            }
            merges.Add(pair);
            touched.Clear();
            foreach (int w in pairWords[pair].Order().ToArray())
            {
                List<int> symbols = words[w].Symbols;
                if (!Contains(symbols, pair))
                {
                    continue;
                }
                RemovePairs(symbols, words[w].Count, pairCounts, touched);
                for (int i = 0; i < symbols.Count - 1; i++)
                {
                    if (symbols[i] == pair.Left && symbols[i + 1] == pair.Right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
                AddPairs(symbols, words[w].Count, w, pairCounts, pairWords, touched);
            }
            pairWords.Remove(pair);
            foreach ((int, int) changed in touched)
            {
                long current = pairCounts.GetValueOrDefault(changed);
                if (current > 0)
                {
                    queue.Enqueue(changed, (-current, changed.Item1, changed.Item2));
                }
            }
        }
    }

    private static bool Contains(List<int> symbols, (int Left, int Right) pair)
    {
        for (int i = 0; i < symbols.Count - 1; i++)
        {
            if (symbols[i] == pair.Left && symbols[i + 1] == pair.Right)
            {
                return true;
            }
        }
        return false;
    }

    private static void AddPairs(List<int> symbols, long count, int word, Dictionary<(int, int), long> pairCounts, Dictionary<(int, int), HashSet<int>> pairWords, HashSet<(int, int)>? touched)
    {
        for (int i = 0; i < symbols.Count - 1; i++)
        {
            var pair = (symbols[i], symbols[i + 1]);
            pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + count;
            if (!pairWords.TryGetValue(pair, out HashSet<int>? set))
            {
                pairWords[pair] = set = [];
            }
            set.Add(word);
            touched?.Add(pair);
        }
    }

    private static void RemovePairs(List<int> symbols, long count, Dictionary<(int, int), long> pairCounts, HashSet<(int, int)> touched)
    {
        for (int i = 0; i < symbols.Count - 1; i++)
        {
            var pair = (symbols[i], symbols[i + 1]);
            pairCounts[pair] -= count;
            touched.Add(pair);
        }
    }

    private static HfTokenizer Load(string json)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return HfTokenizer.Load(stream, "trained tokenizer");
    }

    private static string ToJson(List<string> tokens, List<(int Left, int Right)> merges, IReadOnlyList<string> specialTokens)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonLines.WriterOptions with { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (int i = 0; i < specialTokens.Count; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("id", tokens.Count + i);
                json.WriteString("content", specialTokens[i]);
                json.WriteBoolean("single_word", false);
                json.WriteBoolean("lstrip", false);
                json.WriteBoolean("rstrip", false);
                json.WriteBoolean("normalized", false);
                json.WriteBoolean("special", true);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("normalizer");
            json.WriteString("type", "NFC");
            json.WriteEndObject();
            json.WriteStartObject("pre_tokenizer");
            json.WriteString("type", "Sequence");
            json.WriteStartArray("pretokenizers");
            json.WriteStartObject();
            json.WriteString("type", "Split");
            json.WriteStartObject("pattern");
            json.WriteString("Regex", SplitPattern);
            json.WriteEndObject();
            json.WriteString("behavior", "Isolated");
            json.WriteBoolean("invert", false);
            json.WriteEndObject();
            WriteByteLevel(json, "ByteLevel");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WritePropertyName("post_processor");
            WriteByteLevel(json, "ByteLevel");
            json.WritePropertyName("decoder");
            WriteByteLevel(json, "ByteLevel");
            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", false);
            json.WriteStartObject("vocab");
            for (int id = 0; id < tokens.Count; id++)
            {
                json.WriteNumber(tokens[id], id);
            }
            json.WriteEndObject();
            json.WriteStartArray("merges");
            foreach ((int left, int right) in merges)
            {
                json.WriteStringValue($"{tokens[left]} {tokens[right]}");
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string type)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", false);
        json.WriteBoolean("use_regex", false);
        json.WriteEndObject();
    }
}
