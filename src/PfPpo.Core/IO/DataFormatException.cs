namespace PfPpo.IO;

/// <summary>
/// An input file (problems, samples, tasks, tokenizer.json) is malformed or uses something unsupported. The message names
/// the file and the line or field (<c>file:line: what is wrong</c>). The CLI prints it as one line, without a stack trace.
/// </summary>
public class DataFormatException : Exception
{
    public DataFormatException(string message)
        : base(message)
    {
    }

    public DataFormatException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}
