namespace PfPpo.Cli;

/// <summary>
/// Keeps <c>--max-new-tokens</c> within the model's context (max_position_embeddings): more than the context leaves after
/// the prompt is capped with a warning, so that <c>--max-new-tokens 2147483647</c> runs as far as the model can instead
/// of allocating a cache for two billion positions.
/// </summary>
public static class ContextLimit
{
    /// <summary>
    /// The tokens that may be generated after a prompt of <paramref name="promptTokens"/> (<paramref name="what"/> names it
    /// in messages); a prompt that fills the context is refused.
    /// </summary>
    public static int Cap(int maxNewTokens, int promptTokens, int context, string what)
    {
        if (promptTokens >= context)
        {
            throw new UsageException($"{what} has {promptTokens} tokens, which leaves no room to generate within the model's context " +
                $"(max_position_embeddings {context}).");
        }
        int room = context - promptTokens;
        if (maxNewTokens <= room)
        {
            return maxNewTokens;
        }
        Console.Error.WriteLine($"warning: --max-new-tokens {maxNewTokens} is more than the model's context allows: max_position_embeddings " +
            $"{context} minus {what}'s {promptTokens} tokens leaves {room}; generating at most {room} tokens.");
        return room;
    }
}
