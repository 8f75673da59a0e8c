using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PfPpo.Generation;

/// <summary>
/// Batched sampling from a <see cref="CausalLM"/>. Rows (prompt x sample) are decoded together in micro-batches with the KV
/// cache; micro-batches are filled with prompts of similar length (sorted by token count) so little padding is computed;
/// each prompt of a micro-batch is prefilled once, left-padded by <see cref="TokenBatch"/>, and its keys and values are then
/// copied to its samples' rows; finished rows are dropped from the batch so they stop consuming compute.
/// </summary>
/// <remarks>
/// <para>What a sample carries (<see cref="GeneratedSample"/>): its tokens are exactly the tokens of its text, so the reward
/// computed from the text and the log-probabilities computed from the tokens describe the same completion. Only ids below
/// the tokenizer's vocabulary size are ever sampled (a model's vocab_size may be padded beyond it, e.g. to a multiple of 64
/// by init-model); without a tokenizer every id of the model's vocabulary can be.</para>
/// <para>Reported log-probabilities, per token: for temperature T &gt; 0, the log-probability under the distribution the
/// token was actually drawn from: softmax(logits / T) over the sampleable vocabulary, restricted by top-k and then top-p and
/// renormalised (so with top-k 1 every logprob is 0). For greedy decoding (T = 0), where that distribution is a point mass,
/// the model's own log-probability of the argmax token is reported instead: log_softmax of the raw logits over the
/// sampleable vocabulary.</para>
/// <para>Sampling is reproducible: sample s of prompt p uses its own random stream seeded from (seed, p, s), drawn on the
/// CPU, where p is the prompt's index in the call plus <c>firstPromptIndex</c>; so the result depends neither on the
/// micro-batch size, nor on the order of the batch, nor on how a caller splits its prompts into calls (nor, up to
/// floating-point differences in the logits, on the device).</para>
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
        SampleableVocabSize = Math.Min(model.Config.VocabSize, tokenizer?.VocabSize ?? int.MaxValue);
    }

    /// <summary>Ids below this are sampled: the tokenizer's vocabulary size (at most the model's), else the model's.</summary>
    public int SampleableVocabSize { get; }

    /// <summary>Encodes each prompt exactly as given (no special tokens added) and samples completions.</summary>
    public IReadOnlyList<GeneratedSample> Generate(IReadOnlyList<string> prompts, SamplingOptions options, int firstPromptIndex = 0,
        CancellationToken cancellation = default)
    {
        if (tokenizer is null)
        {
            throw new InvalidOperationException("This generator has no tokenizer; pass token ids instead of text.");
        }
        return Generate(prompts.Select(tokenizer.Encode).ToArray(), options, firstPromptIndex, cancellation);
    }

    /// <summary>
    /// Samples <see cref="SamplingOptions.NumSamples"/> completions per prompt; results are ordered by prompt, then sample.
    /// Prompt p of this call is prompt <paramref name="firstPromptIndex"/> + p of the caller's whole set: that is its
    /// <see cref="GeneratedSample.PromptIndex"/> and what its random streams are seeded from.
    /// </summary>
    public IReadOnlyList<GeneratedSample> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, SamplingOptions options, int firstPromptIndex = 0,
        CancellationToken cancellation = default)
    {
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(firstPromptIndex);
        if (options.StopStrings.Count > 0 && tokenizer is null)
        {
            throw new InvalidOperationException("Stop strings need a tokenizer to decode the text; this generator has none.");
        }
        int vocab = model.Config.VocabSize;
        int context = model.Config.MaxPositionEmbeddings;
        for (int p = 0; p < prompts.Count; p++)
        {
            if (prompts[p].Count == 0)
            {
                throw new ArgumentException($"Prompt {p} is empty; a prompt needs at least one token.", nameof(prompts));
            }
            if (prompts[p].Count >= context)
            {
                throw new ArgumentException($"Prompt {p} has {prompts[p].Count} tokens, which leaves no room to generate within the model's " +
                    $"context (max_position_embeddings {context}).", nameof(prompts));
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
            int index = firstPromptIndex + p;
            for (int s = 0; s < options.NumSamples; s++)
            {
                rows.Add(new Row(index, s, prompts[p], new Random(Seeds.Derive(options.Seed, index, s))));
            }
        }
        // Similar lengths together (longest first, ties in prompt order), so a micro-batch pads little.
        Row[] order = rows.OrderByDescending(r => r.Prompt.Count).ThenBy(r => r.PromptIndex).ThenBy(r => r.SampleIndex).ToArray();
        using (model.EvalMode())
        using (no_grad())
        {
            foreach (Row[] batch in order.Chunk(options.MicroBatchSize))
            {
                cancellation.ThrowIfCancellationRequested();
                GenerateBatch(batch, options, eos, cancellation);
            }
        }
        return rows.Select(r => new GeneratedSample(r.PromptIndex, r.SampleIndex, [.. r.Tokens], r.Text, [.. r.Logprobs], r.Finish)).ToArray();
    }

    private void GenerateBatch(Row[] rows, SamplingOptions options, HashSet<int> eos, CancellationToken cancellation)
    {
        using var batchScope = NewDisposeScope();
        Parameter first = model.parameters().First();
        Device device = first.device;
        int batch = rows.Length;

        // Prefill each distinct prompt once (left-padded), then give each of its samples a copy of its row.
        Row[] distinct = rows.DistinctBy(r => r.PromptIndex).ToArray();
        TokenBatch prefill = TokenBatch.Collate(distinct.Select(r => new TokenSequence(r.Prompt, [])).ToArray(),
            model.Config.PadTokenId ?? 0, PfPpo.Model.Padding.Left, device);
        // No sample runs past the model's context: each stops after MaxNewTokens or at max_position_embeddings, whichever
        // comes first (finish reason Length). The budget depends on the sample's own prompt only, never on its batch.
        int[] budgets = rows.Select(r => Math.Min(options.MaxNewTokens, model.Config.MaxPositionEmbeddings - r.Prompt.Count)).ToArray();
        int steps = budgets.Max();
        using KvCache? cache = options.UseKvCache
            ? new KvCache(model.Config, distinct.Length, prefill.Length + steps, device, first.dtype)
            : null;
        Tensor sequence = prefill.InputIds;                                                       // [U, T]
        Tensor mask = prefill.AttentionMask;                                                      // [U, T]
        Tensor logits = LastLogits(sequence, mask, cache);                                       // [U, V]
        if (distinct.Length < batch)
        {
            var slotOf = distinct.Select((r, slot) => (r.PromptIndex, slot)).ToDictionary(x => x.PromptIndex, x => x.slot);
            Tensor source = tensor(rows.Select(r => (long)slotOf[r.PromptIndex]).ToArray(), device: device);
            sequence = sequence.index_select(0, source);                                          // [B, T]
            mask = mask.index_select(0, source);                                                  // [B, T]
            logits = logits.index_select(0, source);                                              // [B, V]
            cache?.SelectRows(source);
        }

        int[] active = Enumerable.Range(0, batch).ToArray(); // batch slot -> row
        int maxStop = options.StopStrings.Count == 0 ? 0 : options.StopStrings.Max(s => s.Length);
        for (int step = 0; step < steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
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
                    if (StopIndex(row.Text, options.StopStrings, Math.Max(0, previous - maxStop)) is int cut)
                    {
                        CutAt(row, cut, tokenizer);
                        row.Finish = FinishReason.Stop;
                        continue;
                    }
                }
                if (step == budgets[active[slot]] - 1)
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

    /// <summary>
    /// Ends <paramref name="row"/> at a stop string that starts at character <paramref name="cut"/> of its decoded text: it
    /// keeps the shortest prefix of its tokens whose text reaches the cut, and that prefix's text. No token that starts at or
    /// after the cut is kept. A token that straddles the cut (it begins before the stop string and ends inside or after its
    /// start, e.g. ")\n" before "\ndef ") is kept whole, because the code before the cut needs it; the text then runs past
    /// the cut by the rest of that one token (here "\n"), so that the text is always exactly what the tokens decode to.
    /// </summary>
    private static void CutAt(Row row, int cut, HfTokenizer tokenizer)
    {
        string before = row.Text[..cut];
        for (int count = 0; count <= row.Tokens.Count; count++)
        {
            string text = count == row.Tokens.Count ? row.Text : tokenizer.Decode(row.Tokens[..count]);
            if (text.Length >= cut && text.StartsWith(before, StringComparison.Ordinal))
            {
                row.Tokens.RemoveRange(count, row.Tokens.Count - count);
                row.Logprobs.RemoveRange(count, row.Logprobs.Count - count);
                row.Text = text;
                return;
            }
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

    /// <summary>
    /// Chooses one token per row from logits [B, V] among the first <see cref="SampleableVocabSize"/> ids; returns the tokens
    /// [B] (int64) and their log-probabilities [B] under the distribution they were drawn from (see the class remarks).
    /// </summary>
    private (Tensor Tokens, Tensor Logprobs) Choose(Tensor logits, SamplingOptions options, double[] uniforms)
    {
        if (SampleableVocabSize < logits.shape[^1])
        {
            logits = logits.narrow(-1, 0, SampleableVocabSize);                                  // ids beyond the tokenizer's
        }
        if (options.Temperature == 0)
        {
            Tensor best = logits.argmax(-1);
            return (best, logits.log_softmax(-1).gather(-1, best.unsqueeze(-1)).squeeze(-1));
        }
        long vocab = logits.shape[^1];
        Tensor filtered = logits / options.Temperature;
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
        return (tokens, filtered.log_softmax(-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1));
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
