using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PfPpo.Generation;

/// <summary>
/// Batched sampling from a <see cref="CausalLM"/>: all prompts x samples are decoded together (left-padded, in micro-batches),
/// with the KV cache; finished rows are dropped from the batch so they stop consuming compute.
/// </summary>
/// <remarks>
/// Reported log-probabilities: for temperature T &gt; 0, log_softmax(logits / T) at the chosen token (T = 1 gives the model's
/// own distribution); for greedy decoding (T = 0), log_softmax of the raw logits. Top-p and top-k only restrict which tokens
/// can be sampled; they do not renormalise the reported log-probability.
/// Sampling is reproducible: sample s of prompt p uses its own random stream seeded from (seed, p, s), drawn on the CPU,
/// so the result does not depend on the micro-batch size or the order of the batch (nor, up to floating-point differences in
/// the logits, on the device).
/// </remarks>
public sealed class Generator
{
    private readonly CausalLM model;
    private readonly HfTokenizer? tokenizer;

    /// <summary>A generator for <paramref name="model"/>; without a tokenizer only token-id prompts work, texts are empty and stop strings are unavailable.</summary>
    public Generator(CausalLM model, HfTokenizer? tokenizer = null)
    {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /// <summary>Encodes each prompt exactly as given (no special tokens added) and samples completions.</summary>
    public IReadOnlyList<GeneratedSample> Generate(IReadOnlyList<string> prompts, SamplingOptions options)
    {
        if (tokenizer is null)
        {
            throw new InvalidOperationException("This generator has no tokenizer; pass token ids instead of text.");
        }
        return Generate(prompts.Select(tokenizer.Encode).ToArray(), options);
    }

    /// <summary>Samples <see cref="SamplingOptions.NumSamples"/> completions per prompt; results are ordered by prompt, then sample.</summary>
    public IReadOnlyList<GeneratedSample> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, SamplingOptions options)
    {
        options.Validate();
        if (options.StopStrings.Count > 0 && tokenizer is null)
        {
            throw new InvalidOperationException("Stop strings need a tokenizer to decode the text; this generator has none.");
        }
        int vocab = model.Config.VocabSize;
        for (int p = 0; p < prompts.Count; p++)
        {
            if (prompts[p].Count == 0)
            {
                throw new ArgumentException($"Prompt {p} is empty; a prompt needs at least one token.", nameof(prompts));
            }
            foreach (int id in prompts[p])
            {
                if (id < 0 || id >= vocab)
                {
                    throw new ArgumentException($"Prompt {p} holds token id {id}, outside the model's vocabulary (vocab_size {vocab}).", nameof(prompts));
                }
            }
        }
        var eos = new HashSet<int>(options.EosTokenIds ?? model.Config.EosTokenIds);
        var rows = new List<Row>();
        for (int p = 0; p < prompts.Count; p++)
        {
            for (int s = 0; s < options.NumSamples; s++)
            {
                rows.Add(new Row(p, s, prompts[p], new Random(Seeds.Derive(options.Seed, p, s))));
            }
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using (no_grad())
            {
                foreach (Row[] batch in rows.Chunk(options.MicroBatchSize))
                {
                    GenerateBatch(batch, options, eos);
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return rows.Select(r => new GeneratedSample(r.PromptIndex, r.SampleIndex, [.. r.Tokens], r.Text, [.. r.Logprobs], r.Finish)).ToArray();
    }

    private void GenerateBatch(Row[] rows, SamplingOptions options, HashSet<int> eos)
    {
        using var batchScope = NewDisposeScope();
        Parameter first = model.parameters().First();
        Device device = first.device;
        int batch = rows.Length;
        int promptLength = rows.Max(r => r.Prompt.Count);

        // Left padding: row b's prompt occupies the last Prompt.Count columns.
        long[] ids = new long[batch * promptLength];
        long[] maskValues = new long[batch * promptLength];
        for (int b = 0; b < batch; b++)
        {
            int offset = promptLength - rows[b].Prompt.Count;
            for (int t = 0; t < rows[b].Prompt.Count; t++)
            {
                ids[b * promptLength + offset + t] = rows[b].Prompt[t];
                maskValues[b * promptLength + offset + t] = 1;
            }
        }
        Tensor sequence = tensor(ids, [batch, promptLength], device: device);                // [B, T]
        Tensor mask = tensor(maskValues, [batch, promptLength], device: device);             // [B, T]
        using KvCache? cache = options.UseKvCache
            ? new KvCache(model.Config, batch, promptLength + options.MaxNewTokens, device, first.dtype)
            : null;
        Tensor logits = LastLogits(sequence, mask, cache);                                   // [B, V]

        int[] active = Enumerable.Range(0, batch).ToArray(); // batch slot -> row
        int maxStop = options.StopStrings.Count == 0 ? 0 : options.StopStrings.Max(s => s.Length);
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            using var stepScope = NewDisposeScope();
            double[] uniforms = options.Temperature == 0 ? [] : active.Select(i => 1.0 - rows[i].Random.NextDouble()).ToArray();
            (Tensor chosen, Tensor logprobs) = Choose(logits, options, uniforms);               // [B'], [B']
            long[] chosenIds = chosen.cpu().data<long>().ToArray();
            float[] chosenLogprobs = logprobs.cpu().data<float>().ToArray();

            var keep = new List<long>(active.Length);
            for (int slot = 0; slot < active.Length; slot++)
            {
                Row row = rows[active[slot]];
                int token = (int)chosenIds[slot];
                row.Tokens.Add(token);
                row.Logprobs.Add(chosenLogprobs[slot]);
                if (eos.Contains(token))
                {
                    row.Finish = FinishReason.Eos;
                    row.Text = tokenizer?.Decode(row.Tokens[..^1]) ?? "";
                    continue;
                }
                if (tokenizer is not null && maxStop > 0) // without stop strings the text is decoded once, at the end
                {
                    int previous = row.Text.Length;
                    row.Text = tokenizer.Decode(row.Tokens);
                    if (maxStop > 0 && StopIndex(row.Text, options.StopStrings, Math.Max(0, previous - maxStop)) is int cut)
                    {
                        row.Text = row.Text[..cut];
                        row.Finish = FinishReason.Stop;
                        continue;
                    }
                }
                if (step == options.MaxNewTokens - 1)
                {
                    row.Finish = FinishReason.Length;
                    row.Text = tokenizer?.Decode(row.Tokens) ?? "";
                    continue;
                }
                keep.Add(slot);
            }
            if (keep.Count == 0)
            {
                break;
            }

            Tensor next = chosen.unsqueeze(1);                                                   // [B', 1]
            Tensor nextMask = mask;
            Tensor nextSequence = sequence;
            if (keep.Count < active.Length)
            {
                // Drop finished rows so they cost nothing from here on.
                Tensor keepIndex = tensor(keep.ToArray(), device: device);
                next = next.index_select(0, keepIndex);
                nextMask = mask.index_select(0, keepIndex);
                nextSequence = sequence.index_select(0, keepIndex);
                cache?.SelectRows(keepIndex);
                active = keep.Select(slot => active[slot]).ToArray();
            }
            nextMask = cat([nextMask, ones_like(next)], dim: 1);                                // [B', S + 1]
            Tensor nextLogits;
            if (cache is not null)
            {
                nextLogits = LastLogits(next, nextMask, cache);
            }
            else
            {
                nextSequence = cat([nextSequence, next], dim: 1);
                nextLogits = LastLogits(nextSequence, nextMask, null);
            }
            // Carry the loop state out of this step's scope and free the previous step's.
            Replace(ref mask, nextMask, batchScope);
            Replace(ref sequence, nextSequence, batchScope);
            Replace(ref logits, nextLogits, batchScope);
        }
    }

    private static void Replace(ref Tensor current, Tensor next, DisposeScope outer)
    {
        if (ReferenceEquals(current, next))
        {
            return;
        }
        next.MoveToOtherDisposeScope(outer);
        current.Dispose();
        current = next;
    }

    /// <summary>fp32 logits [B, V] of the last position only (a long prompt's full [B, T, V] logits would not fit in memory).</summary>
    private Tensor LastLogits(Tensor ids, Tensor mask, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = model.HiddenStates(ids, mask, cache)[.., -1, ..];                    // [B, C]
        return model.Logits(hidden).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Chooses one token per row from logits [B, V]; returns the tokens [B] (int64) and their log-probabilities [B].</summary>
    private static (Tensor Tokens, Tensor Logprobs) Choose(Tensor logits, SamplingOptions options, double[] uniforms)
    {
        if (options.Temperature == 0)
        {
            Tensor best = logits.argmax(-1);
            return (best, logits.log_softmax(-1).gather(-1, best.unsqueeze(-1)).squeeze(-1));
        }
        long vocab = logits.shape[^1];
        Tensor scaled = logits / options.Temperature;
        Tensor logp = scaled.log_softmax(-1);
        Tensor filtered = scaled;
        if (options.TopK > 0 && options.TopK < vocab)
        {
            Tensor kth = filtered.topk(options.TopK, dim: -1).values[.., ^1..];                // [B, 1]
            filtered = filtered.masked_fill(filtered.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            (Tensor sorted, Tensor order) = filtered.sort(-1, descending: true);
            Tensor probs = sorted.softmax(-1);
            // Drop a token when the tokens ranked above it already reach top_p (the most likely token always stays).
            Tensor drop = (probs.cumsum(-1) - probs).ge(options.TopP);
            filtered = filtered.scatter(-1, order, sorted.masked_fill(drop, double.NegativeInfinity));
        }
        Tensor cdf = filtered.softmax(-1).cumsum(-1);                                           // [B, V]
        Tensor u = tensor(uniforms, device: logits.device).to(ScalarType.Float32).unsqueeze(1) * cdf[.., ^1..];
        Tensor tokens = cdf.lt(u).sum(-1).clamp_max(vocab - 1);                                 // first index with cdf >= u
        return (tokens, logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1));
    }

    private static int? StopIndex(string text, IReadOnlyList<string> stops, int from)
    {
        int? best = null;
        foreach (string stop in stops)
        {
            int index = text.IndexOf(stop, from, StringComparison.Ordinal);
            if (index >= 0 && (best is null || index < best))
            {
                best = index;
            }
        }
        return best;
    }

    private sealed class Row(int promptIndex, int sampleIndex, IReadOnlyList<int> prompt, Random random)
    {
        public int PromptIndex { get; } = promptIndex;
        public int SampleIndex { get; } = sampleIndex;
        public IReadOnlyList<int> Prompt { get; } = prompt;
        public Random Random { get; } = random;
        public List<int> Tokens { get; } = [];
        public List<float> Logprobs { get; } = [];
        public string Text { get; set; } = "";
        public FinishReason Finish { get; set; } = FinishReason.Length;
    }
}
