using PfPpo.IO;
namespace PfPpo.Tokenization;

/// <summary>A tokenizer.json file is malformed or uses a feature this loader does not support.</summary>
/// <remarks>The message names the file and the JSON field (for example <c>pre_tokenizer.pretokenizers[1].behavior</c>).</remarks>
public sealed class TokenizerFormatException : DataFormatException
{
    public TokenizerFormatException(string message)
        : base(message)
    {
    }

    public TokenizerFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
