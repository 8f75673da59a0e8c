using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.IO;

namespace PfPpo.Model;

/// <summary>
/// Llama-3 style or linear RoPE scaling, as in the <c>rope_scaling</c> object of a Hugging Face config.json.
/// </summary>
/// <param name="RopeType"><c>llama3</c> or <c>linear</c>.</param>
/// <param name="Factor">Divides the rotary frequencies (linear: all of them; llama3: the low-frequency band).</param>
/// <param name="LowFreqFactor">llama3 only: wavelengths longer than original_max_position_embeddings / this are fully scaled.</param>
/// <param name="HighFreqFactor">llama3 only: wavelengths shorter than original_max_position_embeddings / this are kept.</param>
/// <param name="OriginalMaxPositionEmbeddings">llama3 only: the context length the model was pre-trained with.</param>
public sealed record RopeScaling(
    string RopeType,
    double Factor,
    double? LowFreqFactor = null,
    double? HighFreqFactor = null,
    int? OriginalMaxPositionEmbeddings = null);

/// <summary>
/// The architecture hyper-parameters of a decoder-only Qwen2 or Llama model, mirroring Hugging Face's config.json
/// (the JSON names are the HF field names). Fields this type does not model are kept in <see cref="Extra"/> and written
/// back unchanged, so a load/save round trip loses nothing.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>The HF model class names, e.g. <c>Qwen2ForCausalLM</c>.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary><c>qwen2</c> or <c>llama</c>.</summary>
    public required string ModelType { get; init; }

    public required int HiddenSize { get; init; }

    public required int NumHiddenLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    /// <summary>Key/value heads for grouped-query attention; equal to <see cref="NumAttentionHeads"/> for plain multi-head attention.</summary>
    public required int NumKeyValueHeads { get; init; }

    public required int IntermediateSize { get; init; }

    public required int VocabSize { get; init; }

    public int MaxPositionEmbeddings { get; init; } = 2048;

    public double RmsNormEps { get; init; } = 1e-6;

    public double RopeTheta { get; init; } = 10000.0;

    public RopeScaling? RopeScaling { get; init; }

    /// <summary>True: the output projection is the input embedding matrix (one shared parameter).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Llama: biases on q/k/v/o projections. Qwen2 always has q/k/v biases and no o_proj bias, whatever this says.</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Llama: biases on gate/up/down projections.</summary>
    public bool MlpBias { get; init; }

    public string HiddenAct { get; init; } = "silu";

    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence ids; HF writes one id as a number and several as a list.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int? PadTokenId { get; init; }

    /// <summary>The dtype the weights were saved in (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>), informational.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>The per-head dimension when the config gives it explicitly.</summary>
    public int? HeadDimOverride { get; init; }

    /// <summary>Number of outputs of a sequence-classification head (1 for a reward or value model), when present.</summary>
    public int? NumLabels { get; init; }

    /// <summary>Fields of config.json that this record does not model, written back as they were.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Extra { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>The per-head dimension: <c>head_dim</c> when given, else hidden_size / num_attention_heads.</summary>
    public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    /// <summary>
    /// The parameters of the causal LM this config describes (tied weights counted once), computed from the shape
    /// alone, so that a model's size is known before any memory is allocated for it.
    /// </summary>
    public long CausalLMParameterCount()
    {
        long hidden = HiddenSize, attention = (long)NumAttentionHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim;
        long qkv = hidden * (attention + 2 * kv) + (QkvBias ? attention + 2 * kv : 0);
        long output = attention * hidden + (OutputProjectionBias ? hidden : 0);
        long mlp = 3 * hidden * IntermediateSize + (MlpProjectionBias ? 2L * IntermediateSize + hidden : 0);
        long layer = qkv + output + mlp + 2 * hidden;
        long embedding = (long)VocabSize * hidden;
        return embedding + NumHiddenLayers * layer + hidden + (TieWordEmbeddings ? 0 : embedding);
    }

    /// <summary>Whether q/k/v projections carry a bias (always for Qwen2; <c>attention_bias</c> for Llama).</summary>
    public bool QkvBias => ModelType == "qwen2" || AttentionBias;

    /// <summary>Whether o_proj carries a bias (never for Qwen2; <c>attention_bias</c> for Llama).</summary>
    public bool OutputProjectionBias => ModelType == "llama" && AttentionBias;

    /// <summary>Whether the MLP projections carry biases (Llama's <c>mlp_bias</c>; never for Qwen2).</summary>
    public bool MlpProjectionBias => ModelType == "llama" && MlpBias;

    /// <summary>The HF architecture name of the causal-LM class for this model type.</summary>
    public string CausalLMArchitecture => ModelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM";

    /// <summary>The HF architecture name of the sequence-classification (scalar head) class for this model type.</summary>
    public string ScalarHeadArchitecture => ModelType == "qwen2" ? "Qwen2ForSequenceClassification" : "LlamaForSequenceClassification";

    /// <summary>Checks the fields for consistency; throws <see cref="InvalidDataException"/> naming the bad field.</summary>
    public void Validate(string source = "model config")
    {
        void Fail(string message) => throw new InvalidDataException($"{source}: {message}");

        if (ModelType is not ("qwen2" or "llama"))
        {
            Fail($"model_type '{ModelType}' is not supported (use qwen2 or llama).");
        }
        foreach (string architecture in Architectures)
        {
            if (architecture is not ("Qwen2ForCausalLM" or "LlamaForCausalLM" or "Qwen2ForSequenceClassification" or "LlamaForSequenceClassification"))
            {
                Fail($"architectures entry '{architecture}' is not supported (Qwen2/Llama ForCausalLM or ForSequenceClassification).");
            }
        }
        CheckPositive(HiddenSize, "hidden_size");
        CheckPositive(NumHiddenLayers, "num_hidden_layers");
        CheckPositive(NumAttentionHeads, "num_attention_heads");
        CheckPositive(NumKeyValueHeads, "num_key_value_heads");
        CheckPositive(IntermediateSize, "intermediate_size");
        CheckPositive(VocabSize, "vocab_size");
        CheckPositive(MaxPositionEmbeddings, "max_position_embeddings");
        if (HeadDimOverride is null && HiddenSize % NumAttentionHeads != 0)
        {
            Fail($"hidden_size ({HiddenSize}) is not divisible by num_attention_heads ({NumAttentionHeads}).");
        }
        if (HeadDim <= 0 || HeadDim % 2 != 0)
        {
            Fail($"head_dim ({HeadDim}) must be a positive even number (rotary embeddings rotate pairs).");
        }
        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            Fail($"num_attention_heads ({NumAttentionHeads}) is not divisible by num_key_value_heads ({NumKeyValueHeads}).");
        }
        if (!(RmsNormEps > 0))
        {
            Fail($"rms_norm_eps ({RmsNormEps}) must be positive.");
        }
        if (!(RopeTheta > 0))
        {
            Fail($"rope_theta ({RopeTheta}) must be positive.");
        }
        if (HiddenAct != "silu")
        {
            Fail($"hidden_act '{HiddenAct}' is not supported (only silu).");
        }
        foreach (int id in EosTokenIds.Concat(BosTokenId is int b ? [b] : []).Concat(PadTokenId is int p ? [p] : []))
        {
            if (id < 0 || id >= VocabSize)
            {
                Fail($"token id {id} (bos/eos/pad_token_id) is outside the vocabulary (vocab_size {VocabSize}).");
            }
        }
        if (Extra.TryGetValue("use_sliding_window", out JsonNode? sliding) && sliding is JsonValue value && value.TryGetValue(out bool on) && on)
        {
            Fail("use_sliding_window is true; sliding-window attention is not supported.");
        }
        if (RopeScaling is { } scaling)
        {
            if (!(scaling.Factor > 0))
            {
                Fail($"rope_scaling.factor ({scaling.Factor}) must be positive.");
            }
            if (scaling.RopeType == "llama3")
            {
                if (scaling.LowFreqFactor is not > 0 || scaling.HighFreqFactor is not > 0 || scaling.OriginalMaxPositionEmbeddings is not > 0)
                {
                    Fail("rope_scaling of type llama3 needs positive low_freq_factor, high_freq_factor and original_max_position_embeddings.");
                }
                if (scaling.HighFreqFactor <= scaling.LowFreqFactor)
                {
                    Fail($"rope_scaling.high_freq_factor ({scaling.HighFreqFactor}) must exceed low_freq_factor ({scaling.LowFreqFactor}).");
                }
            }
            else if (scaling.RopeType != "linear")
            {
                Fail($"rope_scaling.rope_type '{scaling.RopeType}' is not supported (null, llama3 or linear).");
            }
        }

        void CheckPositive(int value, string field)
        {
            if (value <= 0)
            {
                Fail($"{field} ({value}) must be positive.");
            }
        }
    }

    /// <summary>Reads and validates a Hugging Face config.json.</summary>
    public static ModelConfig Load(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: the file does not hold a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e);
        }
        ModelConfig config = FromJson(json, path);
        config.Validate(path);
        return config;
    }

    /// <summary>Builds a config from a parsed config.json object; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig FromJson(JsonObject json, string source)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);

        JsonNode? Take(string name)
        {
            known.Add(name);
            return json[name];
        }

        T Get<T>(string name, T fallback)
        {
            JsonNode? node = Take(name);
            if (node is null)
            {
                return fallback;
            }
            try
            {
                return node.GetValue<T>();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{source}: field {name} has value {node.ToJsonString()}, expected a {typeof(T).Name}.", e);
            }
        }

        int Required(string name) => Take(name) is null
            ? throw new InvalidDataException($"{source}: required field {name} is missing.")
            : Get(name, 0);

        int? OptionalInt(string name) => Take(name) is null ? null : Get(name, 0);

        var architectures = new List<string>();
        if (Take("architectures") is JsonArray array)
        {
            architectures.AddRange(array.Select(a => a?.GetValue<string>() ?? ""));
        }

        string modelType = Take("model_type")?.GetValue<string>()
            ?? throw new InvalidDataException($"{source}: required field model_type is missing.");

        var eos = new List<int>();
        switch (Take("eos_token_id"))
        {
            case null:
                break;
            case JsonArray ids:
                eos.AddRange(ids.Select(id => id?.GetValue<int>()
                    ?? throw new InvalidDataException($"{source}: eos_token_id holds a null entry.")));
                break;
            default:
                eos.Add(Get("eos_token_id", 0));
                break;
        }

        RopeScaling? ropeScaling = null;
        if (Take("rope_scaling") is JsonObject scaling)
        {
            string? type = scaling["rope_type"]?.GetValue<string>() ?? scaling["type"]?.GetValue<string>();
            if (type is null)
            {
                throw new InvalidDataException($"{source}: rope_scaling has no rope_type.");
            }
            if (type is "default")
            {
                ropeScaling = null;
            }
            else
            {
                ropeScaling = new RopeScaling(
                    type,
                    scaling["factor"]?.GetValue<double>() ?? throw new InvalidDataException($"{source}: rope_scaling.factor is missing."),
                    scaling["low_freq_factor"]?.GetValue<double>(),
                    scaling["high_freq_factor"]?.GetValue<double>(),
                    scaling["original_max_position_embeddings"]?.GetValue<int>());
            }
        }

        int? numLabels = OptionalInt("num_labels");
        if (numLabels is null && Take("id2label") is JsonObject labels)
        {
            numLabels = labels.Count;
        }

        int heads = Required("num_attention_heads");
        var config = new ModelConfig
        {
            Architectures = architectures,
            ModelType = modelType,
            HiddenSize = Required("hidden_size"),
            NumHiddenLayers = Required("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = OptionalInt("num_key_value_heads") ?? heads,
            IntermediateSize = Required("intermediate_size"),
            VocabSize = Required("vocab_size"),
            MaxPositionEmbeddings = Get("max_position_embeddings", 2048),
            RmsNormEps = Get("rms_norm_eps", 1e-6),
            RopeTheta = Get("rope_theta", 10000.0),
            RopeScaling = ropeScaling,
            TieWordEmbeddings = Get("tie_word_embeddings", false),
            AttentionBias = Get("attention_bias", false),
            MlpBias = Get("mlp_bias", false),
            HiddenAct = Get("hidden_act", "silu"),
            BosTokenId = OptionalInt("bos_token_id"),
            EosTokenIds = eos,
            PadTokenId = OptionalInt("pad_token_id"),
            TorchDtype = Take("torch_dtype")?.GetValue<string>(),
            HeadDimOverride = OptionalInt("head_dim"),
            NumLabels = numLabels,
        };
        return config with
        {
            Extra = json.Where(pair => !known.Contains(pair.Key))
                .ToDictionary(pair => pair.Key, pair => pair.Value?.DeepClone()),
        };
    }

    /// <summary>The config as a HF config.json object: the modelled fields plus <see cref="Extra"/>.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Architectures.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["model_type"] = ModelType,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["vocab_size"] = VocabSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling is null ? null : RopeScalingJson(RopeScaling),
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["mlp_bias"] = MlpBias,
            ["hidden_act"] = HiddenAct,
        };
        if (BosTokenId is int bos)
        {
            json["bos_token_id"] = bos;
        }
        if (EosTokenIds.Count > 0)
        {
            json["eos_token_id"] = EosJson(EosTokenIds);
        }
        if (PadTokenId is int pad)
        {
            json["pad_token_id"] = pad;
        }
        if (TorchDtype is not null)
        {
            json["torch_dtype"] = TorchDtype;
        }
        if (NumLabels is int labels)
        {
            json["num_labels"] = labels;
            json["id2label"] = new JsonObject(Enumerable.Range(0, labels).Select(i => KeyValuePair.Create($"{i}", (JsonNode?)$"LABEL_{i}")));
            json["label2id"] = new JsonObject(Enumerable.Range(0, labels).Select(i => KeyValuePair.Create($"LABEL_{i}", (JsonNode?)i)));
        }
        foreach ((string key, JsonNode? value) in Extra)
        {
            if (!json.ContainsKey(key))
            {
                json[key] = value?.DeepClone();
            }
        }
        return json;
    }

    /// <summary>Writes config.json (temp file, then rename).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson().ToJsonString(JsonOptions) + "\n");

    /// <summary>HF's encoding of eos_token_id: a number for one id, a list for several.</summary>
    internal static JsonNode EosJson(IReadOnlyList<int> ids) =>
        ids.Count == 1 ? JsonValue.Create(ids[0]) : new JsonArray(ids.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray());

    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static JsonObject RopeScalingJson(RopeScaling scaling)
    {
        var json = new JsonObject { ["rope_type"] = scaling.RopeType, ["factor"] = scaling.Factor };
        if (scaling.LowFreqFactor is double low)
        {
            json["low_freq_factor"] = low;
        }
        if (scaling.HighFreqFactor is double high)
        {
            json["high_freq_factor"] = high;
        }
        if (scaling.OriginalMaxPositionEmbeddings is int original)
        {
            json["original_max_position_embeddings"] = original;
        }
        return json;
    }
}
