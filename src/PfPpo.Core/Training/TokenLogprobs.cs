using PfPpo.Model;
using static TorchSharp.torch;

namespace PfPpo.Training;

/// <summary>
/// The one place where per-token log-probabilities of (prompt, completion) pairs under a causal LM are computed: SFT's
/// loss, PPO's old / new / reference log-probs and the preference losses all use it. fp32 throughout the softmax.
/// Only completion positions are projected onto the vocabulary (about 80% of positions are prompt), in chunks of rows,
/// and the backward pass recomputes each chunk's logits instead of keeping them, so neither the forward nor the
/// backward ever holds [B, T, V] logits: at a 152k vocabulary, batch 16 x 512 tokens would be 5 GB in fp32.
/// </summary>
public static class TokenLogprobs
{
    /// <summary>Rows of the vocabulary projection computed at once (chunk x V fp32 logits live at a time).</summary>
    public const int DefaultChunkRows = 1024;

    /// <summary>
    /// log π(token t | tokens before t) for every completion token of <paramref name="batch"/>, as [B, T] fp32 aligned with
    /// <see cref="TokenBatch.CompletionMask"/> (0 at prompt and padding positions). Differentiable when grad mode is on.
    /// </summary>
    public static Tensor Compute(CausalLM model, TokenBatch batch, int chunkRows = DefaultChunkRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1, nameof(chunkRows));
        using var scope = NewDisposeScope();
        (Tensor h, Tensor targets, Tensor columns) = CompletionRows(model, batch);
        Tensor selected = Selected(h, model.OutputWeight, targets, chunkRows);                // [N] fp32
        return Scatter(selected, columns, batch).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Compute"/>'s log-probs and, at the same positions, the entropy of the model's next-token distribution
    /// (both [B, T] fp32, 0 outside the completion), from one forward pass without gradients: PPO's rollout pass.
    /// </summary>
    public static (Tensor Logprobs, Tensor Entropy) ComputeWithEntropy(CausalLM model, TokenBatch batch, int chunkRows = DefaultChunkRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1, nameof(chunkRows));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        (Tensor h, Tensor targets, Tensor columns) = CompletionRows(model, batch);
        if (h.shape[0] == 0)
        {
            Tensor none = zeros(batch.BatchSize, batch.Length, ScalarType.Float32, h.device);
            return (none.MoveToOuterDisposeScope(), none.clone().MoveToOuterDisposeScope());
        }
        (Tensor logprobs, Tensor _, Tensor? entropy) = Forward(h, model.OutputWeight, targets, chunkRows, withEntropy: true);
        return (Scatter(logprobs, columns, batch).MoveToOuterDisposeScope(), Scatter(entropy!, columns, batch).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The final hidden rows that predict completion tokens [N, C], those tokens [N], and the flat column [N] into
    /// B*T where each predicted token stands.
    /// </summary>
    private static (Tensor Hidden, Tensor Targets, Tensor Columns) CompletionRows(CausalLM model, TokenBatch batch)
    {
        long b = batch.BatchSize, t = batch.Length;
        Tensor hidden = model.HiddenStates(batch.InputIds, batch.ModelMask);                  // [B, T, C]
        // The hidden state at column j predicts the token at column j + 1: gather the columns whose successor is a
        // completion token.
        Tensor targetMask = batch.CompletionMask[.., 1..].reshape(-1).gt(0);                  // [B*(T-1)]
        Tensor positions = targetMask.nonzero().squeeze(1);                                   // [N] indices into B*(T-1)
        Tensor rowsOf = positions.floor_divide(t - 1);                                        // [N]
        Tensor columnsOf = positions % (t - 1);                                               // [N] predicting column
        Tensor flatHidden = rowsOf * t + columnsOf;                                           // [N] into B*T
        Tensor h = hidden.reshape(b * t, -1).index_select(0, flatHidden);                     // [N, C]
        Tensor targets = batch.InputIds.reshape(-1).index_select(0, flatHidden + 1);          // [N]
        return (h, targets, flatHidden + 1);
    }

    /// <summary>Per-row values [N] placed at their columns of a [B, T] fp32 tensor of zeros.</summary>
    private static Tensor Scatter(Tensor values, Tensor columns, TokenBatch batch) =>
        zeros(batch.BatchSize * (long)batch.Length, ScalarType.Float32, values.device)
            .index_put_(values, columns)
            .reshape(batch.BatchSize, batch.Length);

    /// <summary>
    /// log_softmax(h W^T)[target] per row, for hidden rows h [N, C] and the output projection W [V, C]; [N] fp32.
    /// Chunked in rows, with a backward pass that recomputes each chunk (see the class remarks).
    /// </summary>
    public static Tensor Selected(Tensor hidden, Tensor weight, Tensor targets, int chunkRows = DefaultChunkRows)
    {
        if (hidden.shape[0] == 0)
        {
            return zeros(0, ScalarType.Float32, hidden.device);
        }
        return is_grad_enabled() && (hidden.requires_grad || weight.requires_grad)
            ? ChunkedLogprob.apply(hidden, weight, targets, chunkRows)
            : Forward(hidden, weight, targets, chunkRows, withEntropy: false).Logprobs;
    }

    /// <summary>
    /// Per chunk: fp32 logits, their log-sum-exp and the target's log-probability (and, when asked, the entropy
    /// lse - Σ softmax · logits). Returns [N] logprobs, [N] lse and [N] entropy or null.
    /// </summary>
    private static (Tensor Logprobs, Tensor LogSumExp, Tensor? Entropy) Forward(Tensor hidden, Tensor weight, Tensor targets, int chunkRows,
        bool withEntropy)
    {
        using var scope = NewDisposeScope();
        long n = hidden.shape[0];
        Tensor w = weight.to(ScalarType.Float32);
        var logprobs = new List<Tensor>();
        var lses = new List<Tensor>();
        var entropies = new List<Tensor>();
        using (no_grad())
        {
            for (long start = 0; start < n; start += chunkRows)
            {
                using var chunk = NewDisposeScope(); // one chunk's [n, V] logits live at a time
                long count = Math.Min(chunkRows, n - start);
                Tensor logits = hidden.narrow(0, start, count).to(ScalarType.Float32).matmul(w.t());       // [n, V]
                Tensor lse = logits.logsumexp(1, keepdim: false);                                        // [n]
                Tensor target = logits.gather(1, targets.narrow(0, start, count).unsqueeze(1)).squeeze(1);
                logprobs.Add((target - lse).MoveToOuterDisposeScope());
                lses.Add(lse.MoveToOuterDisposeScope());
                if (withEntropy)
                {
                    Tensor p = (logits - lse.unsqueeze(1)).exp_();                                      // [n, V]
                    entropies.Add((lse - p.mul_(logits).sum(1)).MoveToOuterDisposeScope());
                }
            }
        }
        return (cat(logprobs, 0).MoveToOuterDisposeScope(), cat(lses, 0).MoveToOuterDisposeScope(),
            withEntropy ? cat(entropies, 0).MoveToOuterDisposeScope() : null);
    }

    /// <summary>
    /// Autograd for <see cref="Selected"/>: d logprob_i / d logits_i = onehot(target_i) - softmax(logits_i); gradients for
    /// the hidden rows and the weight are accumulated chunk by chunk from recomputed logits.
    /// </summary>
    private sealed class ChunkedLogprob : autograd.SingleTensorFunction<ChunkedLogprob>
    {
        public override string Name => nameof(ChunkedLogprob);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var hidden = (Tensor)vars[0];
            var weight = (Tensor)vars[1];
            var targets = (Tensor)vars[2];
            int chunkRows = (int)vars[3];
            (Tensor logprobs, Tensor lse, Tensor? _) = Forward(hidden, weight, targets, chunkRows, withEntropy: false);
            ctx.save_for_backward([hidden, weight, targets, lse]);
            ctx.save_data("chunk", chunkRows);
            return logprobs;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            List<Tensor> saved = ctx.get_saved_variables();
            Tensor hidden = saved[0], weight = saved[1], targets = saved[2], lse = saved[3];
            int chunkRows = (int)ctx.get_data("chunk");
            long n = hidden.shape[0];
            using var scope = NewDisposeScope();
            Tensor w = weight.to(ScalarType.Float32);
            Tensor gradWeight = zeros_like(w);                                                          // [V, C]
            var gradHidden = new List<Tensor>();
            for (long start = 0; start < n; start += chunkRows)
            {
                using var chunk = NewDisposeScope(); // one chunk's recomputed [n, V] logits live at a time
                long count = Math.Min(chunkRows, n - start);
                Tensor h = hidden.narrow(0, start, count).to(ScalarType.Float32);                        // [n, C]
                Tensor logits = h.matmul(w.t());                                                         // [n, V]
                Tensor g = gradOutput.narrow(0, start, count).to(ScalarType.Float32).unsqueeze(1);      // [n, 1]
                // d/dlogits of g * (logits[target] - lse) = g * (onehot - softmax)
                Tensor gradLogits = (logits - lse.narrow(0, start, count).unsqueeze(1)).exp().mul_(g.neg());
                gradLogits.scatter_add_(1, targets.narrow(0, start, count).unsqueeze(1), g);
                gradHidden.Add(gradLogits.matmul(w).MoveToOuterDisposeScope());                          // [n, C]
                gradWeight.add_(gradLogits.t().matmul(h));                                               // [V, C]
            }
            Tensor dHidden = cat(gradHidden, 0).to(hidden.dtype).MoveToOuterDisposeScope();
            Tensor dWeight = gradWeight.to(weight.dtype).MoveToOuterDisposeScope();
            return [dHidden, dWeight, null!, null!];
        }
    }
}
