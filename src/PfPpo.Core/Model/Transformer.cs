// A decoder-only transformer that is exactly the Hugging Face Qwen2 / Llama architecture, in one file (nanoGPT style).
// Module and field names are the HF names, so TorchSharp's state_dict keys are the keys of HF safetensors files:
//   model.embed_tokens.weight, model.layers.{i}.self_attn.{q,k,v,o}_proj.{weight,bias}, model.layers.{i}.mlp.{gate,up,down}_proj.weight,
//   model.layers.{i}.input_layernorm.weight, model.layers.{i}.post_attention_layernorm.weight, model.norm.weight, lm_head.weight | score.weight.
// Shapes: B batch, T new tokens, S = past + T key positions, C hidden_size, H query heads, K key/value heads, D head_dim, V vocab.
#pragma warning disable IDE1006 // snake_case field names are the Hugging Face weight names.
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PfPpo.Model;

/// <summary>
/// Creates a model's parameters on one device in one dtype, uninitialised: loading a checkpoint fills them directly, so a
/// 7B model costs its own size once instead of a random fp32 copy first.
/// </summary>
public readonly record struct ParameterFactory(Device Device, ScalarType DType)
{
    public Parameter Empty(params long[] shape) => nn.Parameter(empty(shape, DType, Device));

    public Parameter Ones(params long[] shape) => nn.Parameter(ones(shape, DType, Device));
}

/// <summary>y = x W^T (+ b): HF's nn.Linear, with its <c>weight</c> [out, in] and <c>bias</c> [out] names.</summary>
public sealed class Projection : nn.Module<Tensor, Tensor>
{
    private Parameter weight;
    private Parameter? bias;

    public Projection(long inFeatures, long outFeatures, bool hasBias, ParameterFactory parameters) : base(nameof(Projection))
    {
        weight = parameters.Empty(outFeatures, inFeatures);
        bias = hasBias ? parameters.Empty(outFeatures) : null;
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
}

/// <summary>Token embedding table <c>weight</c> [V, C] (HF nn.Embedding).</summary>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
    private Parameter weight;

    public TokenEmbedding(long vocab, long hidden, ParameterFactory parameters) : base(nameof(TokenEmbedding))
    {
        weight = parameters.Empty(vocab, hidden);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>ids [B, T] int64 to embeddings [B, T, C].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        long[] shape = [.. ids.shape, weight.shape[1]];
        return weight.index_select(0, ids.reshape(-1)).reshape(shape).MoveToOuterDisposeScope();
    }
}

/// <summary>Root-mean-square layer norm, computed in fp32 and cast back (as HF's Qwen2RMSNorm / LlamaRMSNorm).</summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly double eps;
    private Parameter weight;

    public RMSNorm(long size, double eps, ParameterFactory parameters) : base(nameof(RMSNorm))
    {
        this.eps = eps;
        weight = parameters.Ones(size);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor x32 = x.to(ScalarType.Float32);
        Tensor variance = x32.pow(2).mean([-1], keepdim: true);
        Tensor normed = x32 * rsqrt(variance + eps);
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>Rotary position embeddings (rotate-half convention), with optional linear or Llama-3 frequency scaling.</summary>
public sealed class RotaryEmbedding
{
    private readonly float[] invFreq; // [D/2]

    public RotaryEmbedding(ModelConfig config)
    {
        int dim = config.HeadDim;
        invFreq = new float[dim / 2];
        for (int i = 0; i < invFreq.Length; i++)
        {
            invFreq[i] = (float)(1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim));
        }
        switch (config.RopeScaling)
        {
            case null:
                break;
            case { RopeType: "linear" } linear:
                for (int i = 0; i < invFreq.Length; i++)
                {
                    invFreq[i] = (float)(invFreq[i] / linear.Factor);
                }
                break;
            case { RopeType: "llama3" } llama3:
                // Long wavelengths (low frequencies) are divided by factor, short ones kept, the band between interpolated.
                double factor = llama3.Factor;
                double low = llama3.LowFreqFactor!.Value, high = llama3.HighFreqFactor!.Value;
                double original = llama3.OriginalMaxPositionEmbeddings!.Value;
                double lowFreqWavelen = original / low, highFreqWavelen = original / high;
                for (int i = 0; i < invFreq.Length; i++)
                {
                    double freq = invFreq[i];
                    double wavelen = 2 * Math.PI / freq;
                    if (wavelen > lowFreqWavelen)
                    {
                        freq /= factor;
                    }
                    else if (wavelen >= highFreqWavelen)
                    {
                        double smooth = (original / wavelen - low) / (high - low);
                        freq = (1 - smooth) * freq / factor + smooth * freq;
                    }
                    invFreq[i] = (float)freq;
                }
                break;
            default:
                throw new ArgumentException($"rope_scaling type '{config.RopeScaling.RopeType}' is not supported.");
        }
    }

    /// <summary>The inverse frequencies, after scaling.</summary>
    public IReadOnlyList<float> InverseFrequencies => invFreq;

    /// <summary>cos and sin tables [B, T, D] for integer positions [B, T], in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor inv = tensor(invFreq, device: positions.device);                            // [D/2]
        Tensor freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;                // [B, T, D/2]
        Tensor emb = cat([freqs, freqs], dim: -1);                                          // [B, T, D]
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>Applies the rotation to x [B, heads, T, D] with cos/sin [B, T, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        Tensor x1 = x[.., .., .., ..(int)half];
        Tensor x2 = x[.., .., .., (int)half..];
        Tensor rotated = cat([-x2, x1], dim: -1);
        return (x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Keys and values of past positions for incremental decoding, per layer [B, K, capacity, D], preallocated.
/// The cache owns its buffers (they are detached from dispose scopes); dispose it when generation ends.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] keys;
    private readonly Tensor[] values;

    public KvCache(ModelConfig config, long batchSize, int capacity, Device device, ScalarType dtype)
    {
        Capacity = capacity;
        keys = new Tensor[config.NumHiddenLayers];
        values = new Tensor[config.NumHiddenLayers];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = zeros([batchSize, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
            values[i] = zeros([batchSize, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
        }
    }

    /// <summary>Number of positions already stored.</summary>
    public int Length { get; private set; }

    public int Capacity { get; }

    /// <summary>Rows (sequences) held.</summary>
    public long BatchSize => keys[0].shape[0];

    /// <summary>Stores k, v [B, K, T, D] of <paramref name="layer"/> after the past and returns views of all S = past + T positions.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        int count = (int)k.shape[2];
        if (Length + count > Capacity)
        {
            throw new InvalidOperationException($"KV cache overflow: {Length} + {count} positions exceed the capacity {Capacity}.");
        }
        using (no_grad())
        {
            using Tensor keySlot = keys[layer].narrow(2, Length, count);
            using Tensor valueSlot = values[layer].narrow(2, Length, count);
            keySlot.copy_(k);
            valueSlot.copy_(v);
        }
        return (keys[layer].narrow(2, 0, Length + count), values[layer].narrow(2, 0, Length + count));
    }

    /// <summary>Marks <paramref name="count"/> more positions as stored; the model calls this after all layers appended.</summary>
    public void Advance(int count) => Length += count;

    /// <summary>
    /// Replaces the rows by the given ones (int64 indices into the current rows; an index may repeat): drops finished
    /// sequences from a batch, or gives each of a prompt's samples its own copy of the prompt's prefilled keys and values.
    /// Only the stored positions are copied.
    /// </summary>
    public void SelectRows(Tensor rows)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Select(keys[i], rows);
            values[i] = Select(values[i], rows);
        }
    }

    private Tensor Select(Tensor buffer, Tensor rows)
    {
        long[] shape = [.. buffer.shape];
        shape[0] = rows.shape[0];
        Tensor selected = empty(shape, buffer.dtype, buffer.device).DetachFromDisposeScope();
        if (Length > 0)
        {
            using (no_grad())
            {
                selected.narrow(2, 0, Length).copy_(buffer.narrow(2, 0, Length).index_select(0, rows));
            }
        }
        buffer.Dispose();
        return selected;
    }

    public void Dispose()
    {
        foreach (Tensor t in keys.Concat(values))
        {
            t.Dispose();
        }
    }
}

/// <summary>Grouped-query self-attention with rotary embeddings (HF Qwen2Attention / LlamaAttention).</summary>
public sealed class Attention : nn.Module
{
    private readonly int numHeads, numKvHeads, headDim;
    private Projection q_proj, k_proj, v_proj, o_proj;

    public Attention(ModelConfig config, ParameterFactory parameters) : base(nameof(Attention))
    {
        numHeads = config.NumAttentionHeads;
        numKvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        q_proj = new Projection(config.HiddenSize, numHeads * headDim, config.QkvBias, parameters);
        k_proj = new Projection(config.HiddenSize, numKvHeads * headDim, config.QkvBias, parameters);
        v_proj = new Projection(config.HiddenSize, numKvHeads * headDim, config.QkvBias, parameters);
        o_proj = new Projection(numHeads * headDim, config.HiddenSize, config.OutputProjectionBias, parameters);
        RegisterComponents();
    }

    /// <param name="x">[B, T, C]</param>
    /// <param name="cos">[B, T, D]</param>
    /// <param name="sin">[B, T, D]</param>
    /// <param name="mask">[B, 1, T, S] bool, true = may attend; null = plain causal (no padding, no cache).</param>
    /// <param name="cache">Past keys/values, or null.</param>
    /// <param name="layer">This layer's index in the cache.</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        Tensor q = q_proj.forward(x).view(b, t, numHeads, headDim).transpose(1, 2);         // [B, H, T, D]
        Tensor k = k_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);       // [B, K, T, D]
        Tensor v = v_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);       // [B, K, T, D]
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null)
        {
            (k, v) = cache.Append(layer, k, v);                                               // [B, K, S, D]
        }
        Tensor y;
        if (numKvHeads == numHeads)
        {
            y = mask is null
                ? F.scaled_dot_product_attention(q, k, v, is_casual: true)
                : F.scaled_dot_product_attention(q, k, v, mask);                              // [B, H, T, D]
            y = y.transpose(1, 2);                                                            // [B, T, H, D]
        }
        else if (mask is null)
        {
            // No past (the model builds a mask whenever there is one): repeat each key/value head for the numHeads /
            // numKvHeads consecutive query heads it serves (HF repeat_kv) and keep SDPA's fused causal path; the copy is of
            // this call's own positions only.
            int groups = numHeads / numKvHeads;
            long s = k.shape[2];
            k = k.unsqueeze(2).expand(b, numKvHeads, groups, s, headDim).reshape(b, numHeads, s, headDim);
            v = v.unsqueeze(2).expand(b, numKvHeads, groups, s, headDim).reshape(b, numHeads, s, headDim);
            y = F.scaled_dot_product_attention(q, k, v, is_casual: true).transpose(1, 2);    // [B, T, H, D]
        }
        else
        {
            // Grouped queries against the shared key/value heads, without copying the (cached) keys and values: query
            // head h = kv * groups + g becomes row g * T + t of key/value head kv, so q is [B, K, groups * T, D] against
            // k, v [B, K, S, D], and the mask [B, 1, T, S] is tiled to [B, 1, groups * T, S]. Only q (T positions) moves.
            int groups = numHeads / numKvHeads;
            Tensor grouped = q.view(b, numKvHeads, groups, t, headDim).reshape(b, numKvHeads, groups * t, headDim);
            Tensor groupedMask = groups == 1 ? mask : mask.repeat(1, 1, groups, 1);
            y = F.scaled_dot_product_attention(grouped, k, v, groupedMask)                   // [B, K, groups * T, D]
                .view(b, numKvHeads, groups, t, headDim).permute(0, 3, 1, 2, 4);              // [B, T, K, groups, D]
        }
        y = y.reshape(b, t, numHeads * headDim);                                             // [B, T, H*D]
        return o_proj.forward(y).MoveToOuterDisposeScope();                                  // [B, T, C]
    }
}

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) * up_proj(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private Projection gate_proj, up_proj, down_proj;

    public Mlp(ModelConfig config, ParameterFactory parameters) : base(nameof(Mlp))
    {
        gate_proj = new Projection(config.HiddenSize, config.IntermediateSize, config.MlpProjectionBias, parameters);
        up_proj = new Projection(config.HiddenSize, config.IntermediateSize, config.MlpProjectionBias, parameters);
        down_proj = new Projection(config.IntermediateSize, config.HiddenSize, config.MlpProjectionBias, parameters);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-norm block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module
{
    private RMSNorm input_layernorm, post_attention_layernorm;
    private Attention self_attn;
    private Mlp mlp;

    public DecoderLayer(ModelConfig config, ParameterFactory parameters) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RMSNorm(config.HiddenSize, config.RmsNormEps, parameters);
        self_attn = new Attention(config, parameters);
        post_attention_layernorm = new RMSNorm(config.HiddenSize, config.RmsNormEps, parameters);
        mlp = new Mlp(config, parameters);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        Tensor h = x + self_attn.forward(input_layernorm.forward(x), cos, sin, mask, cache, layer);
        return (h + mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>The backbone (HF Qwen2Model / LlamaModel): token embedding, decoder layers, final norm.</summary>
public sealed class DecoderModel : nn.Module
{
    private TokenEmbedding embed_tokens;
    private ModuleList<DecoderLayer> layers;
    private RMSNorm norm;
    private readonly RotaryEmbedding rotary;

    public DecoderModel(ModelConfig config, ParameterFactory parameters) : base(nameof(DecoderModel))
    {
        Config = config;
        embed_tokens = new TokenEmbedding(config.VocabSize, config.HiddenSize, parameters);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new DecoderLayer(config, parameters)).ToArray());
        norm = new RMSNorm(config.HiddenSize, config.RmsNormEps, parameters);
        rotary = new RotaryEmbedding(config);
        RegisterComponents();
    }

    public ModelConfig Config { get; }

    /// <summary>The token embedding matrix [V, C]; also the output projection of a tied causal LM.</summary>
    public Parameter EmbedTokens => embed_tokens.Weight;

    /// <summary>
    /// The final (normed) hidden states [B, T, C].
    /// Positions are cumsum(mask) - 1, so left-padded rows start at position 0 at their first real token; padded
    /// keys are never attended to. With a cache, <paramref name="attentionMask"/> covers the past and the new tokens.
    /// </summary>
    /// <param name="inputIds">[B, T] int64.</param>
    /// <param name="attentionMask">[B, S] (S = cached + T), 1 = token, 0 = padding; null = all tokens.</param>
    /// <param name="cache">Past keys/values (extended by this call), or null.</param>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        int past = cache?.Length ?? 0;
        long s = past + t;
        if (attentionMask is not null && (attentionMask.shape.Length != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != s))
        {
            throw new ArgumentException(
                $"attentionMask has shape [{string.Join(", ", attentionMask.shape)}], expected [{b}, {s}] (batch, cached + new tokens).",
                nameof(attentionMask));
        }
        Device device = inputIds.device;

        Tensor positions;                                                                       // [B, T]
        Tensor? mask = null;                                                                    // [B, 1, T, S]
        if (attentionMask is null)
        {
            positions = arange(past, s, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t);
            if (past > 0) // with no past, S == T and SDPA's own causal mask is exact
            {
                Tensor qIndex = arange(past, s, dtype: ScalarType.Int64, device: device).unsqueeze(1);  // [T, 1]
                Tensor kIndex = arange(0, s, dtype: ScalarType.Int64, device: device).unsqueeze(0);     // [1, S]
                mask = kIndex.le(qIndex).expand(b, 1, t, s);
            }
        }
        else
        {
            Tensor valid = attentionMask.to(ScalarType.Int64, device);
            positions = (valid.cumsum(1) - 1).clamp_min(0)[.., past..];
            Tensor qIndex = arange(past, s, dtype: ScalarType.Int64, device: device).unsqueeze(1);      // [T, 1]
            Tensor kIndex = arange(0, s, dtype: ScalarType.Int64, device: device).unsqueeze(0);         // [1, S]
            Tensor causal = kIndex.le(qIndex).unsqueeze(0);                                             // [1, T, S]
            Tensor keyValid = valid.gt(0).unsqueeze(1);                                                 // [B, 1, S]
            // A padding query attends to itself only, so its (unused) output stays finite.
            mask = causal.logical_and(keyValid).logical_or(kIndex.eq(qIndex).unsqueeze(0)).unsqueeze(1);
        }

        Tensor x = embed_tokens.forward(inputIds);                                                    // [B, T, C]
        (Tensor cos, Tensor sin) = rotary.Compute(positions, x.dtype);                                // [B, T, D]
        for (int i = 0; i < layers.Count; i++)
        {
            x = layers[i].forward(x, cos, sin, mask, cache, i);
        }
        cache?.Advance((int)t);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>A causal language model (HF Qwen2ForCausalLM / LlamaForCausalLM).</summary>
public sealed class CausalLM : nn.Module
{
    private DecoderModel model;
    private Projection? lm_head;

    /// <summary>
    /// A model whose parameters are allocated on <paramref name="device"/> in <paramref name="dtype"/> and left
    /// uninitialised (a checkpoint fills them, or <see cref="InitializeWeights"/> does): no full fp32 copy is ever built.
    /// </summary>
    public CausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(CausalLM))
    {
        config.Validate();
        Config = config;
        var parameters = new ParameterFactory(device ?? CPU, dtype);
        model = new DecoderModel(config, parameters);
        // Tied: no lm_head module at all; the logits use model.embed_tokens.weight, so there is one parameter.
        lm_head = config.TieWordEmbeddings ? null : new Projection(config.HiddenSize, config.VocabSize, hasBias: false, parameters);
        RegisterComponents();
    }

    public ModelConfig Config { get; }

    /// <summary>The backbone.</summary>
    public DecoderModel Backbone => model;

    /// <summary>Logits [B, T, V] for input ids [B, T]; see <see cref="DecoderModel.forward"/> for the mask and cache.</summary>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        return Logits(model.forward(inputIds, attentionMask, cache)).MoveToOuterDisposeScope();
    }

    /// <summary>The backbone's final hidden states [B, T, C].</summary>
    public Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask, KvCache? cache = null) =>
        model.forward(inputIds, attentionMask, cache);

    /// <summary>The output projection [V, C]: lm_head.weight, or the embedding matrix when tied.</summary>
    public Parameter OutputWeight => lm_head?.Weight ?? model.EmbedTokens;

    /// <summary>Projects hidden states [.., C] to logits [.., V] (through the embedding matrix when tied).</summary>
    public Tensor Logits(Tensor hidden) =>
        lm_head is null ? F.linear(hidden, model.EmbedTokens) : lm_head.forward(hidden);

    /// <summary>Re-initialises all weights as HF does: normal(0, std) for linear and embedding weights, zero biases, unit norms.</summary>
    public void InitializeWeights(long seed, double std = 0.02) => WeightInit.Apply(this, seed, std);
}

/// <summary>
/// The backbone plus a bias-free <c>score</c> Linear(C, 1): a scalar per position, for reward and value models
/// (HF Qwen2ForSequenceClassification / LlamaForSequenceClassification with num_labels 1).
/// </summary>
public sealed class ScalarHeadModel : nn.Module
{
    private DecoderModel model;
    private Projection score;

    /// <summary>Parameters allocated uninitialised on <paramref name="device"/> in <paramref name="dtype"/> (see <see cref="CausalLM(ModelConfig, Device?, ScalarType)"/>).</summary>
    public ScalarHeadModel(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(ScalarHeadModel))
    {
        config.Validate();
        Config = config;
        var parameters = new ParameterFactory(device ?? CPU, dtype);
        model = new DecoderModel(config, parameters);
        score = new Projection(config.HiddenSize, 1, hasBias: false, parameters);
        RegisterComponents();
    }

    public ModelConfig Config { get; }

    public DecoderModel Backbone => model;

    /// <summary>Scores [B, T]: the head applied to every position's final hidden state.</summary>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        return score.forward(model.forward(inputIds, attentionMask)).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The backbone's final hidden states [B, T, C].</summary>
    public Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask) => model.forward(inputIds, attentionMask);

    /// <summary>Applies the head to hidden states [.., C], giving [..].</summary>
    public Tensor Score(Tensor hidden) => score.forward(hidden).squeeze(-1);

    /// <summary>Re-initialises all weights (see <see cref="CausalLM.InitializeWeights"/>).</summary>
    public void InitializeWeights(long seed, double std = 0.02) => WeightInit.Apply(this, seed, std);

    /// <summary>Re-initialises only the head, normal(0, std), e.g. after loading a causal LM's backbone.</summary>
    public void InitializeScore(long seed, double std = 0.02) => WeightInit.Apply(score, seed, std);
}

/// <summary>HF-style initialisation, drawn on the CPU from one seeded generator so it is the same on every device.</summary>
internal static class WeightInit
{
    public static void Apply(nn.Module module, long seed, double std)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed, CPU);
        using (no_grad())
        {
            foreach ((string name, Parameter parameter) in module.named_parameters())
            {
                if (name.EndsWith("layernorm.weight", StringComparison.Ordinal) || name.EndsWith("norm.weight", StringComparison.Ordinal))
                {
                    parameter.fill_(1.0);
                }
                else if (name.EndsWith(".bias", StringComparison.Ordinal))
                {
                    parameter.zero_();
                }
                else
                {
                    Tensor values = empty(parameter.shape, ScalarType.Float32, CPU).normal_(0.0, std, generator);
                    parameter.copy_(values);
                }
            }
        }
    }
}
