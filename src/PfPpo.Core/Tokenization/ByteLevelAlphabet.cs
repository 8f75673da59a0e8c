using System.Text;

namespace PfPpo.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character map used by byte-level BPE: printable Latin-1 bytes map to themselves and
/// the other 68 bytes map, in increasing byte order, to U+0100 onwards (so a space becomes 'Ġ' and '\n' becomes 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte(ByteToChar);

    /// <summary>The character that stands for byte <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => ByteToChar[value];

    /// <summary>The byte that byte-level character <paramref name="symbol"/> stands for.</summary>
    public static byte ToByte(char symbol) =>
        CharToByte.TryGetValue(symbol, out byte value) ? value : throw new ArgumentException($"'{symbol}' is not a byte-level symbol.", nameof(symbol));

    /// <summary>Maps <paramref name="text"/>'s UTF-8 bytes to their byte-level characters.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = ByteToChar[source[i]];
            }
        });
    }

    /// <summary>
    /// Appends the bytes that <paramref name="token"/> stands for. As Hugging Face's ByteLevel decoder does, a token
    /// with any character outside the byte alphabet (an added token such as "&lt;|im start|&gt;") contributes its own UTF-8 bytes.
    /// </summary>
    public static void AppendBytes(string token, List<byte> output)
    {
        foreach (char c in token)
        {
            if (!CharToByte.ContainsKey(c))
            {
                output.AddRange(Encoding.UTF8.GetBytes(token));
                return;
            }
        }
        foreach (char c in token)
        {
            output.Add(CharToByte[c]);
        }
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte(char[] byteToChar)
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (byte)b;
        }
        return map;
    }
}
