using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PfPpo.Tokenization;

/// <summary>A span of a string and whether a split pattern matched it.</summary>
internal readonly record struct PatternSpan(int Start, int End, bool IsMatch);

/// <summary>
/// A split pattern evaluated the way Hugging Face's <c>Pattern::find_matches</c> does: the result covers the whole
/// input as alternating non-matched and matched spans, in order.
/// </summary>
internal abstract class SplitPattern
{
    public abstract List<PatternSpan> FindMatches(string text);

    /// <summary>Turns a list of (start, end) matches into spans that cover <paramref name="length"/> characters.</summary>
    protected static List<PatternSpan> Cover(int length, IEnumerable<(int Start, int End)> matches)
    {
        var spans = new List<PatternSpan>();
        if (length == 0)
        {
            spans.Add(new PatternSpan(0, 0, false));
            return spans;
        }
        int previous = 0;
        foreach ((int start, int end) in matches)
        {
            if (previous != start)
            {
                spans.Add(new PatternSpan(previous, start, false));
            }
            spans.Add(new PatternSpan(start, end, true));
            previous = end;
        }
        if (previous != length)
        {
            spans.Add(new PatternSpan(previous, length, false));
        }
        return spans;
    }
}

/// <summary>
/// A regular expression from a tokenizer.json (Hugging Face runs these with Oniguruma, on code points).
/// </summary>
/// <remarks>
/// .NET's engine works on UTF-16 units, so a character outside the BMP (an emoji, a rare CJK ideograph) would be
/// seen as two surrogates of category Cs and, for example, <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would split "😀abc"
/// differently. To match per code point, the pattern runs on a copy of the text in which each astral code point is
/// replaced by one BMP stand-in of the same Unicode general category, and match offsets are mapped back. This is
/// exact for patterns built from categories (\p{..}, \s, \w, \d) and BMP literals, which covers the split patterns
/// of GPT-2, Llama 3, Qwen2 and DeepSeek-Coder. Patterns that spell astral characters literally are rewritten so
/// each astral range becomes an alternation of surrogate-pair ranges (and then run on the original text).
/// Oniguruma's Ruby syntax makes <c>^</c> and <c>$</c> match at line breaks, hence <see cref="RegexOptions.Multiline"/>.
/// </remarks>
internal sealed class RegexSplitPattern : SplitPattern
{
    private const RegexOptions Options = RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.Compiled;

    private readonly Regex _regex;
    private readonly bool _substituteAstral;

    private RegexSplitPattern(Regex regex, bool substituteAstral)
    {
        _regex = regex;
        _substituteAstral = substituteAstral;
    }

    /// <summary>Compiles <paramref name="pattern"/>; throws <see cref="ArgumentException"/> if .NET cannot parse it.</summary>
    public static RegexSplitPattern Create(string pattern)
    {
        bool hasAstralLiterals = pattern.Any(char.IsSurrogate);
        string dotnetPattern = hasAstralLiterals ? AstralPatternRewriter.Rewrite(pattern) : pattern;
        return new RegexSplitPattern(new Regex(dotnetPattern, Options), substituteAstral: !hasAstralLiterals);
    }

    /// <summary>A pattern that matches <paramref name="literal"/> exactly (tokenizer.json's <c>{"String": ...}</c> form).</summary>
    public static RegexSplitPattern Literal(string literal) => new(new Regex(Regex.Escape(literal), Options), substituteAstral: false);

    public override List<PatternSpan> FindMatches(string text)
    {
        if (!_substituteAstral || !text.Any(char.IsSurrogate))
        {
            var direct = new List<(int, int)>();
            foreach (ValueMatch m in _regex.EnumerateMatches(text))
            {
                direct.Add((m.Index, m.Index + m.Length));
            }
            return Cover(text.Length, direct);
        }

        // narrowToWide[i] is the index in text of narrow character i; narrowToWide[narrow.Length] == text.Length.
        var narrow = new StringBuilder(text.Length);
        var narrowToWide = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            narrowToWide.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                narrow.Append(StandIn(char.ConvertToUtf32(text[i], text[i + 1])));
                i++;
            }
            else
            {
                narrow.Append(text[i]);
            }
        }
        narrowToWide.Add(text.Length);
        string narrowText = narrow.ToString();
        var matches = new List<(int, int)>();
        foreach (ValueMatch m in _regex.EnumerateMatches(narrowText))
        {
            matches.Add((narrowToWide[m.Index], narrowToWide[m.Index + m.Length]));
        }
        return Cover(text.Length, matches);
    }

    /// <summary>A BMP character with the same general category as <paramref name="codePoint"/>.</summary>
    private static char StandIn(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
    {
        UnicodeCategory.UppercaseLetter => '\u0391',
        UnicodeCategory.LowercaseLetter => '\u03B1',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u05D0',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u00A7',
        UnicodeCategory.MathSymbol => '\u00D7',
        UnicodeCategory.CurrencySymbol => '\u00A2',
        UnicodeCategory.ModifierSymbol => '\u00B4',
        UnicodeCategory.OtherSymbol => '\u00A6',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };
}

/// <summary>Splits where a code point satisfies a predicate (each such code point is one match), like Rust's <c>str::split(char predicate)</c>.</summary>
internal sealed class CharPredicatePattern(Func<int, bool> predicate) : SplitPattern
{
    public override List<PatternSpan> FindMatches(string text)
    {
        var matches = new List<(int, int)>();
        for (int i = 0; i < text.Length; i++)
        {
            int width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            int codePoint = width == 2 ? char.ConvertToUtf32(text[i], text[i + 1]) : text[i];
            if (predicate(codePoint))
            {
                matches.Add((i, i + width));
            }
            i += width - 1;
        }
        return Cover(text.Length, matches);
    }
}

/// <summary>Hugging Face's <c>Invert</c> pattern: the same spans with matched and non-matched swapped.</summary>
internal sealed class InvertedPattern(SplitPattern inner) : SplitPattern
{
    public override List<PatternSpan> FindMatches(string text) =>
        inner.FindMatches(text).Select(s => s with { IsMatch = !s.IsMatch }).ToList();
}
