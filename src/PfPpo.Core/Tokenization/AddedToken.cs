using System.Text.RegularExpressions;

namespace PfPpo.Tokenization;

/// <summary>An entry of tokenizer.json's <c>added_tokens</c>.</summary>
/// <param name="Id">The token's id.</param>
/// <param name="Content">The exact text the token stands for.</param>
/// <param name="Special">Special tokens are skipped by <c>Decode(ids, skipSpecialTokens: true)</c>.</param>
/// <param name="SingleWord">Only match when not preceded or followed by a word character.</param>
/// <param name="LStrip">A match also takes the whitespace before it.</param>
/// <param name="RStrip">A match also takes the whitespace after it.</param>
/// <param name="Normalized">Match against the normalized text (otherwise against the raw input).</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord = false, bool LStrip = false, bool RStrip = false, bool Normalized = false);

/// <summary>
/// Finds added tokens in text the way Hugging Face's <c>AddedVocabulary::find_matches</c> does: leftmost-longest
/// matches without overlap; a single_word match next to a word character is dropped; lstrip / rstrip extend a
/// match over adjacent whitespace.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private static readonly Regex EndsWithWord = new(@"\w\z", RegexOptions.CultureInvariant);
    private static readonly Regex StartsWithWord = new(@"\A\w", RegexOptions.CultureInvariant);

    // Tokens grouped by their first character, longest first.
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Pattern.Length > 0)
            .GroupBy(t => t.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Pattern.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> into pieces covering it in order; a piece is either plain text or one added token.</summary>
    public IEnumerable<(string Text, AddedToken? Token)> Split(string text)
    {
        if (IsEmpty)
        {
            if (text.Length > 0)
            {
                yield return (text, null);
            }
            yield break;
        }
        int consumed = 0;
        int position = 0;
        while (position < text.Length)
        {
            (string Pattern, AddedToken Token)? found = LongestAt(text, position);
            if (found is null)
            {
                position++;
                continue;
            }
            (string pattern, AddedToken token) = found.Value;
            int start = position;
            int stop = position + pattern.Length;
            position = stop;
            if (token.SingleWord
                && ((start > 0 && EndsWithWord.IsMatch(text[..start])) || (stop < text.Length && StartsWithWord.IsMatch(text[stop..]))))
            {
                continue;
            }
            if (token.LStrip)
            {
                int newStart = start;
                while (newStart > 0 && char.IsWhiteSpace(text[newStart - 1]))
                {
                    newStart--;
                }
                start = Math.Max(newStart, consumed);
            }
            if (token.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop]))
                {
                    stop++;
                }
                position = stop;
            }
            if (consumed < start)
            {
                yield return (text[consumed..start], null);
            }
            yield return (text[start..stop], token);
            consumed = stop;
        }
        if (consumed < text.Length)
        {
            yield return (text[consumed..], null);
        }
    }

    private (string Pattern, AddedToken Token)? LongestAt(string text, int position)
    {
        if (!_byFirstChar.TryGetValue(text[position], out var candidates))
        {
            return null;
        }
        foreach (var candidate in candidates)
        {
            if (position + candidate.Pattern.Length <= text.Length
                && string.CompareOrdinal(text, position, candidate.Pattern, 0, candidate.Pattern.Length) == 0)
            {
                return candidate;
            }
        }
        return null;
    }
}
