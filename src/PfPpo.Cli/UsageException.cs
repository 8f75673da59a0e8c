namespace PfPpo.Cli;

/// <summary>
/// The user gave a flag a value the command cannot use (or flags that contradict each other). The message names the flag:
/// <c>--k: every k must be at most --n (4), got 10</c>. Thrown only by the CLI; the CLI prints it as one line.
/// </summary>
public sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);
