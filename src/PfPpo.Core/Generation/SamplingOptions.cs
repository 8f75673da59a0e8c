namespace PfPpo.Generation;

/// <summary>How <see cref="Generator"/> samples completions.</summary>
public sealed record SamplingOptions
{
    /// <summary>The most tokens generated per sample (an EOS token counts); a sample also stops at the model's context length
    /// (max_position_embeddings, prompt included).</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Softmax temperature; 0 means greedy (argmax) decoding.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling: sample from the smallest set of tokens whose probability reaches this (1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Sample among the K most likely tokens only (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Samples per prompt.</summary>
    public int NumSamples { get; init; } = 1;

    /// <summary>Seed; sample s of prompt p draws from its own generator seeded from (Seed, p, s), so results do not depend on batching.</summary>
    public long Seed { get; init; }

    /// <summary>Generation stops when the decoded text contains one of these; the text is cut before it.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Token ids that end a sample; null means the model config's eos_token_id.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>Rows (prompt x sample) decoded together in one batch.</summary>
    public int MicroBatchSize { get; init; } = 64;

    /// <summary>Use the KV cache (true) or recompute the whole sequence at every step (false; for benchmarks and checks).</summary>
    public bool UseKvCache { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok)
            {
                throw new ArgumentException($"{name} is {value}; it {rule}.", name);
            }
        }
        Check(MaxNewTokens >= 1, nameof(MaxNewTokens), MaxNewTokens, "must be at least 1");
        Check(Temperature >= 0 && double.IsFinite(Temperature), nameof(Temperature), Temperature, "must be a finite number >= 0 (0 = greedy)");
        Check(TopP > 0 && TopP <= 1, nameof(TopP), TopP, "must be in (0, 1]");
        Check(TopK >= 0, nameof(TopK), TopK, "must be >= 0 (0 = off)");
        Check(NumSamples >= 1, nameof(NumSamples), NumSamples, "must be at least 1");
        Check(MicroBatchSize >= 1, nameof(MicroBatchSize), MicroBatchSize, "must be at least 1");
        Check(StopStrings.All(s => s.Length > 0), nameof(StopStrings), "[" + string.Join(", ", StopStrings) + "]", "must not contain an empty string");
    }
}

/// <summary>Why a sample ended.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token was generated (it is the last token of the sample).</summary>
    Eos,

    /// <summary>The text reached a stop string.</summary>
    Stop,

    /// <summary>MaxNewTokens were generated, or the sample reached the model's context length.</summary>
    Length,
}

/// <summary>
/// One generated completion. <see cref="TokenIds"/> and <see cref="Logprobs"/> hold every generated token (including a
/// final EOS, or the token that completed a stop string); <see cref="Text"/> is the decoded completion without the EOS
/// token and cut before a stop string.
/// </summary>
public sealed record GeneratedSample(
    int PromptIndex,
    int SampleIndex,
    int[] TokenIds,
    string Text,
    float[] Logprobs,
    FinishReason FinishReason);
