using System.Text;
using Microsoft.ML.Tokenizers;

namespace PfPpo.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2 / Qwen2.5-Coder, DeepSeek-Coder and the ones
/// <c>BpeTrainer</c> writes) loaded from its tokenizer.json, producing the same ids as Hugging Face's
/// <c>tokenizers</c>. The BPE merges run in Microsoft.ML.Tokenizers; added tokens, the normalizer and the
/// pre-tokenizer (Split / Digits / ByteLevel / Sequence) follow Hugging Face's semantics here.
/// </summary>
/// <remarks>Instances are immutable and safe to share between threads.</remarks>
public sealed class HfTokenizer
{
    private readonly Microsoft.ML.Tokenizers.BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, string> _idToModelToken;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly bool _ignoreMerges;
    private readonly TextNormalizer _normalizer;
    private readonly IReadOnlyList<PreTokenizerStep> _preTokenizer;
    private readonly AddedTokenMatcher _rawAddedTokens;
    private readonly AddedTokenMatcher _normalizedAddedTokens;

    private HfTokenizer(TokenizerDefinition definition)
    {
        _vocab = definition.Vocab;
        _ignoreMerges = definition.IgnoreMerges;
        _normalizer = definition.Normalizer;
        _preTokenizer = definition.PreTokenizer;
        _idToModelToken = new Dictionary<int, string>(_vocab.Count);
        foreach ((string token, int id) in _vocab)
        {
            _idToModelToken.TryAdd(id, token);
        }
        _addedById = new Dictionary<int, AddedToken>();
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (AddedToken token in definition.AddedTokens)
        {
            _addedById[token.Id] = token;
            _addedByContent[token.Content] = token.Id;
        }
        SpecialTokens = definition.AddedTokens.Where(t => t.Special).ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal);
        VocabSize = Math.Max(_vocab.Count == 0 ? -1 : _vocab.Values.Max(), definition.AddedTokens.Count == 0 ? -1 : definition.AddedTokens.Max(t => t.Id)) + 1;
        _rawAddedTokens = new AddedTokenMatcher(definition.AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedAddedTokens = new AddedTokenMatcher(definition.AddedTokens.Where(t => t.Normalized).Select(t => (_normalizer.Normalize(t.Content), t)));
        _bpe = Microsoft.ML.Tokenizers.BpeTokenizer.Create(new BpeOptions(_vocab)
        {
            Merges = definition.Merges,
            ByteLevel = true,
        });
    }

    /// <summary>Number of ids: the largest id (model vocabulary or added token) plus one.</summary>
    public int VocabSize { get; }

    /// <summary>The added tokens marked special (content to id), e.g. "&lt;|endoftext|&gt;".</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Loads a tokenizer.json file.</summary>
    /// <exception cref="TokenizerFormatException">The file is malformed or uses an unsupported feature; the message names the file and field.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static HfTokenizer Load(string tokenizerJsonPath)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        if (!File.Exists(tokenizerJsonPath))
        {
            throw new FileNotFoundException($"tokenizer file '{tokenizerJsonPath}' does not exist.", tokenizerJsonPath);
        }
        using FileStream stream = File.OpenRead(tokenizerJsonPath);
        return Load(stream, tokenizerJsonPath);
    }

    /// <summary>Loads tokenizer.json content from a stream (an embedded resource, say); <paramref name="sourceName"/> names it in errors.</summary>
    public static HfTokenizer Load(Stream tokenizerJson, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        return new HfTokenizer(new TokenizerJsonReader(sourceName).Read(tokenizerJson));
    }

    /// <summary>
    /// Encodes <paramref name="text"/> without adding any special token. Added tokens (special or not) that occur in
    /// the text are recognised first, as Hugging Face does with <c>add_special_tokens=False</c>.
    /// </summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach ((string? preToken, AddedToken? token) in Segment(text))
        {
            if (token is not null)
            {
                ids.Add(token.Id);
            }
            else
            {
                EncodePreToken(preToken!, ids);
            }
        }
        return ids;
    }

    /// <summary>
    /// Decodes ids to text as Hugging Face's ByteLevel decoder does (invalid UTF-8 becomes U+FFFD). Ids that name no
    /// token are skipped, as Hugging Face does; special tokens are skipped when <paramref name="skipSpecialTokens"/>.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out AddedToken? added))
            {
                if (!(skipSpecialTokens && added.Special))
                {
                    ByteLevelAlphabet.AppendBytes(added.Content, bytes);
                }
            }
            else if (_idToModelToken.TryGetValue(id, out string? token))
            {
                if (!(skipSpecialTokens && SpecialTokens.ContainsKey(token)))
                {
                    ByteLevelAlphabet.AppendBytes(token, bytes);
                }
            }
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>The id of a token (added tokens by content, model tokens in their byte-level spelling such as "Ġthe"), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _addedByContent.TryGetValue(token, out int added) ? added
            : _vocab.TryGetValue(token, out int id) ? id
            : null;
    }

    /// <summary>The token an id stands for (byte-level spelling for model tokens), or null.</summary>
    public string? IdToToken(int id) =>
        _addedById.TryGetValue(id, out AddedToken? added) ? added.Content
            : _idToModelToken.GetValueOrDefault(id);

    /// <summary>
    /// Splits text the way encoding does, in order: each item is either an added token found in the text or one
    /// pre-token (normalized, pre-tokenized, not yet byte-mapped) for the BPE model.
    /// </summary>
    internal IEnumerable<(string? PreToken, AddedToken? Token)> Segment(string text)
    {
        foreach ((string raw, AddedToken? rawToken) in _rawAddedTokens.Split(text))
        {
            if (rawToken is not null)
            {
                yield return (null, rawToken);
                continue;
            }
            foreach ((string segment, AddedToken? token) in _normalizedAddedTokens.Split(_normalizer.Normalize(raw)))
            {
                if (token is not null)
                {
                    yield return (null, token);
                    continue;
                }
                foreach (string piece in PreTokenize(segment))
                {
                    yield return (piece, null);
                }
            }
        }
    }

    /// <summary>Runs the pre-tokenizer on a normalized piece of text that holds no added token.</summary>
    internal List<string> PreTokenize(string segment)
    {
        var pieces = new List<string> { segment };
        var next = new List<string>();
        foreach (PreTokenizerStep step in _preTokenizer)
        {
            next.Clear();
            foreach (string piece in pieces)
            {
                step.Split(piece, next);
            }
            (pieces, next) = (next, pieces);
        }
        return pieces;
    }

    private void EncodePreToken(string piece, List<int> ids)
    {
        // Llama 3's ignore_merges: a pre-token that is itself in the vocabulary maps to that id without merging.
        if (_ignoreMerges && _vocab.TryGetValue(ByteLevelAlphabet.Encode(piece), out int whole))
        {
            ids.Add(whole);
            return;
        }
        ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
    }
}
