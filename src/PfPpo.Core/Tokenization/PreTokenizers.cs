using System.Globalization;
using System.Text;

namespace PfPpo.Tokenization;

/// <summary>What a Split pre-tokenizer does with the spans its pattern matched (tokenizer.json's <c>behavior</c>).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>One step of a Hugging Face pre-tokenizer: splits each piece of text into smaller pieces.</summary>
internal abstract class PreTokenizerStep
{
    /// <summary>Appends the non-empty pieces <paramref name="piece"/> splits into to <paramref name="output"/>.</summary>
    public abstract void Split(string piece, List<string> output);

    /// <summary>Hugging Face's <c>NormalizedString::split(pattern, behavior)</c>.</summary>
    protected static void SplitByPattern(string piece, SplitPattern pattern, SplitBehavior behavior, List<string> output)
    {
        List<PatternSpan> spans = pattern.FindMatches(piece);
        var kept = new List<(int Start, int End, bool Remove)>(spans.Count);
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                kept.AddRange(spans.Select(s => (s.Start, s.End, false)));
                break;
            case SplitBehavior.Removed:
                kept.AddRange(spans.Select(s => (s.Start, s.End, s.IsMatch)));
                break;
            case SplitBehavior.Contiguous:
            case SplitBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (PatternSpan span in spans)
                {
                    bool merge = behavior == SplitBehavior.Contiguous ? span.IsMatch == previousMatch : span.IsMatch && !previousMatch;
                    if (merge && kept.Count > 0)
                    {
                        kept[^1] = (kept[^1].Start, span.End, false);
                    }
                    else
                    {
                        kept.Add((span.Start, span.End, false));
                    }
                    previousMatch = span.IsMatch;
                }
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = spans.Count - 1; i >= 0; i--)
                {
                    PatternSpan span = spans[i];
                    if (span.IsMatch && !previousMatch && kept.Count > 0)
                    {
                        kept[^1] = (span.Start, kept[^1].End, false);
                    }
                    else
                    {
                        kept.Add((span.Start, span.End, false));
                    }
                    previousMatch = span.IsMatch;
                }
                kept.Reverse();
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(behavior), behavior, null);
        }
        foreach ((int start, int end, bool remove) in kept)
        {
            if (!remove && end > start)
            {
                output.Add(piece[start..end]);
            }
        }
    }
}

/// <summary>tokenizer.json <c>{"type": "Split", "pattern": ..., "behavior": ..., "invert": ...}</c>.</summary>
internal sealed class SplitStep(SplitPattern pattern, SplitBehavior behavior) : PreTokenizerStep
{
    public override void Split(string piece, List<string> output) => SplitByPattern(piece, pattern, behavior, output);
}

/// <summary>tokenizer.json <c>{"type": "Digits", "individual_digits": ...}</c>: isolates numeric code points (Rust's <c>char::is_numeric</c>: Nd, Nl, No).</summary>
internal sealed class DigitsStep(bool individualDigits) : PreTokenizerStep
{
    private static readonly CharPredicatePattern Numeric = new(static cp => CharUnicodeInfo.GetUnicodeCategory(cp)
        is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber);

    public override void Split(string piece, List<string> output) =>
        SplitByPattern(piece, Numeric, individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, output);
}

/// <summary>
/// tokenizer.json <c>{"type": "ByteLevel", "add_prefix_space": ..., "use_regex": ...}</c>. It prepends a space to a
/// piece that does not start with one (if asked) and splits with GPT-2's pattern (if asked). The mapping of bytes
/// to the byte-level alphabet happens in the BPE model (Microsoft.ML.Tokenizers' <c>ByteLevel</c> option).
/// </summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, bool useRegex) : PreTokenizerStep
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly RegexSplitPattern? _regex = useRegex ? RegexSplitPattern.Create(Gpt2Pattern) : null;

    public override void Split(string piece, List<string> output)
    {
        if (addPrefixSpace && !piece.StartsWith(' '))
        {
            piece = " " + piece;
        }
        if (_regex is null)
        {
            if (piece.Length > 0)
            {
                output.Add(piece);
            }
            return;
        }
        SplitByPattern(piece, _regex, SplitBehavior.Isolated, output);
    }
}

/// <summary>A tokenizer.json normalizer: a sequence of Unicode normalization forms and lowercasing.</summary>
internal sealed class TextNormalizer(IReadOnlyList<Func<string, string>> steps)
{
    public static TextNormalizer None { get; } = new([]);

    public bool IsIdentity => steps.Count == 0;

    public static Func<string, string> Form(NormalizationForm form) => text => IcuNormalizer.Normalize(text, form);

    public static Func<string, string> Lowercase { get; } = static text => text.ToLowerInvariant();

    public string Normalize(string text)
    {
        foreach (Func<string, string> step in steps)
        {
            text = step(text);
        }
        return text;
    }
}
