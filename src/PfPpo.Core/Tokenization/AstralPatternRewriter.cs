using System.Globalization;
using System.Text;

namespace PfPpo.Tokenization;

/// <summary>
/// Rewrites character classes that list characters outside the BMP (DeepSeek-Coder's letter class ends with
/// ranges such as <c>𐐀-𐑏</c>) into a form .NET accepts: <c>[bmp-items]</c> or'ed with one
/// <c>\uHHHH[\uLLLL-\uLLLL]</c> alternative per high surrogate. .NET would otherwise read such a range as two
/// surrogates and reject it as a reversed range.
/// </summary>
internal static class AstralPatternRewriter
{
    public static string Rewrite(string pattern)
    {
        var output = new StringBuilder(pattern.Length);
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                output.Append(pattern, i, 2);
                i += 2;
            }
            else if (c == '[')
            {
                i = RewriteClass(pattern, i, output);
            }
            else
            {
                output.Append(c);
                i++;
            }
        }
        return output.ToString();
    }

    /// <summary>Rewrites the class that starts at <paramref name="start"/> and returns the index after its ']'.</summary>
    private static int RewriteClass(string pattern, int start, StringBuilder output)
    {
        int i = start + 1;
        bool negated = i < pattern.Length && pattern[i] == '^';
        if (negated)
        {
            i++;
        }
        var bmp = new StringBuilder();
        var astral = new List<(int Low, int High)>();
        bool first = true;
        while (i < pattern.Length && (pattern[i] != ']' || first))
        {
            first = false;
            if (pattern[i] == '[')
            {
                throw new ArgumentException($"nested character class at offset {i} is not supported in a pattern with characters outside the BMP");
            }
            (string item, int codePoint, int next) = ReadItem(pattern, i);
            if (next + 1 < pattern.Length && pattern[next] == '-' && pattern[next + 1] != ']')
            {
                (string endItem, int endCodePoint, int afterEnd) = ReadItem(pattern, next + 1);
                if (codePoint > 0xFFFF || endCodePoint > 0xFFFF)
                {
                    if (codePoint < 0 || endCodePoint < 0)
                    {
                        throw new ArgumentException($"range with an escape at offset {i} cannot be combined with characters outside the BMP");
                    }
                    if (codePoint <= 0xFFFF)
                    {
                        bmp.Append(item).Append("-\\uFFFF");
                        codePoint = 0x10000;
                    }
                    astral.Add((codePoint, endCodePoint));
                }
                else
                {
                    bmp.Append(item).Append('-').Append(endItem);
                }
                i = afterEnd;
            }
            else
            {
                if (codePoint > 0xFFFF)
                {
                    astral.Add((codePoint, codePoint));
                }
                else
                {
                    bmp.Append(item);
                }
                i = next;
            }
        }
        if (i >= pattern.Length)
        {
            throw new ArgumentException($"unterminated character class starting at offset {start}");
        }
        i++; // ']'
        if (astral.Count == 0)
        {
            output.Append(pattern, start, i - start);
            return i;
        }
        if (negated)
        {
            throw new ArgumentException($"negated character class at offset {start} lists characters outside the BMP, which is not supported");
        }
        var alternatives = new List<string>();
        if (bmp.Length > 0)
        {
            alternatives.Add($"[{bmp}]");
        }
        foreach ((int low, int high) in astral)
        {
            for (int cp = low; cp <= high;)
            {
                int blockEnd = Math.Min(high, cp | 0x3FF);
                string a = char.ConvertFromUtf32(cp);
                string b = char.ConvertFromUtf32(blockEnd);
                alternatives.Add($"{Escape(a[0])}[{Escape(a[1])}-{Escape(b[1])}]");
                cp = blockEnd + 1;
            }
        }
        output.Append("(?:").Append(string.Join('|', alternatives)).Append(')');
        return i;
    }

    /// <summary>Reads one class item: an escape (code point -1 unless it is a \uHHHH or \xHH escape), a surrogate pair or a char.</summary>
    private static (string Item, int CodePoint, int Next) ReadItem(string pattern, int i)
    {
        if (pattern[i] == '\\' && i + 1 < pattern.Length)
        {
            if (pattern[i + 1] == 'u' && i + 6 <= pattern.Length
                && int.TryParse(pattern.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int u))
            {
                return (pattern.Substring(i, 6), u, i + 6);
            }
            if (pattern[i + 1] == 'x' && i + 4 <= pattern.Length
                && int.TryParse(pattern.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int x))
            {
                return (pattern.Substring(i, 4), x, i + 4);
            }
            return (pattern.Substring(i, 2), -1, i + 2);
        }
        if (char.IsHighSurrogate(pattern[i]) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]))
        {
            return (pattern.Substring(i, 2), char.ConvertToUtf32(pattern[i], pattern[i + 1]), i + 2);
        }
        return (pattern[i].ToString(), pattern[i], i + 1);
    }

    private static string Escape(char c) => $"\\u{(int)c:X4}";
}
