using static TorchSharp.torch;

namespace PfPpo.Model;

/// <summary>One (prompt, completion) pair of token ids; the completion may be empty (a prompt to generate from).</summary>
public sealed record TokenSequence(IReadOnlyList<int> Prompt, IReadOnlyList<int> Completion)
{
    public int Length => Prompt.Count + Completion.Count;

    /// <summary>Prompt then completion ids.</summary>
    public IEnumerable<int> Ids => Prompt.Concat(Completion);
}

/// <summary>Where the padding of a <see cref="TokenBatch"/> goes.</summary>
public enum Padding
{
    /// <summary>Real tokens start at column 0 (training, scoring): positions need no mask and each row's last token is at Length - 1.</summary>
    Right,

    /// <summary>Real tokens end at the last column (generation): every row's next token is appended at the same column.</summary>
    Left,
}

/// <summary>
/// The one collator of PfPpo: (prompt, completion) pairs padded into a [B, T] batch on a device, with the masks and indices
/// every consumer needs (SFT loss, log-probs, reward and value heads, generation prefill).
/// Its tensors are created in the caller's dispose scope.
/// </summary>
/// <param name="InputIds">[B, T] int64; padding holds the pad id.</param>
/// <param name="AttentionMask">[B, T] int64, 1 at real tokens.</param>
/// <param name="CompletionMask">[B, T] float32, 1 at completion tokens (never at padding or prompt).</param>
/// <param name="LastTokenIndex">[B] int64: the column of each row's last real token (where a reward head reads).</param>
/// <param name="PromptLengths">Prompt tokens per row.</param>
/// <param name="Lengths">Real tokens (prompt + completion) per row.</param>
public sealed record TokenBatch(Tensor InputIds, Tensor AttentionMask, Tensor CompletionMask, Tensor LastTokenIndex,
    int[] PromptLengths, int[] Lengths, Padding Padding)
{
    public int BatchSize => Lengths.Length;

    /// <summary>Columns T.</summary>
    public int Length => (int)InputIds.shape[1];

    /// <summary>Completion tokens in the batch.</summary>
    public int CompletionTokens => Lengths.Select((length, row) => length - PromptLengths[row]).Sum();

    /// <summary>Real tokens in the batch.</summary>
    public int RealTokens => Lengths.Sum();

    /// <summary>
    /// The mask to give the model: null for a right-padded batch (a plain causal mask is exact for every real token, since
    /// no real token can see a later pad, and it lets attention take its fused path); the attention mask otherwise.
    /// </summary>
    public Tensor? ModelMask => Padding == Padding.Right ? null : AttentionMask;

    /// <summary>The column where row <paramref name="row"/>'s first real token stands.</summary>
    public int Offset(int row) => Padding == Padding.Right ? 0 : Length - Lengths[row];

    /// <summary>Pads <paramref name="sequences"/> into one batch on <paramref name="device"/>.</summary>
    public static TokenBatch Collate(IReadOnlyList<TokenSequence> sequences, int padTokenId, Padding padding, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("A batch needs at least one sequence.", nameof(sequences));
        }
        int batch = sequences.Count;
        int length = sequences.Max(s => s.Length);
        if (length == 0)
        {
            throw new ArgumentException("Every sequence of the batch is empty.", nameof(sequences));
        }
        long[] ids = new long[batch * length];
        long[] attention = new long[batch * length];
        float[] completion = new float[batch * length];
        long[] last = new long[batch];
        int[] promptLengths = new int[batch];
        int[] lengths = new int[batch];
        Array.Fill(ids, padTokenId);
        for (int row = 0; row < batch; row++)
        {
            TokenSequence sequence = sequences[row];
            int offset = padding == Padding.Right ? 0 : length - sequence.Length;
            int t = offset;
            foreach (int id in sequence.Ids)
            {
                ids[row * length + t] = id;
                attention[row * length + t] = 1;
                completion[row * length + t] = t - offset >= sequence.Prompt.Count ? 1f : 0f;
                t++;
            }
            promptLengths[row] = sequence.Prompt.Count;
            lengths[row] = sequence.Length;
            last[row] = Math.Max(offset, offset + sequence.Length - 1);
        }
        Device target = device ?? CPU;
        return new TokenBatch(
            tensor(ids, [batch, length], device: target),
            tensor(attention, [batch, length], device: target),
            tensor(completion, [batch, length], device: target),
            tensor(last, [batch], device: target),
            promptLengths, lengths, padding);
    }
}
