using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Model;

/// <summary>The shape of a new decoder model (what <c>pfppo init-model</c> and the demo choose).</summary>
public sealed record ModelShape(string Arch, int Hidden, int Layers, int Heads, int KvHeads, int Intermediate,
    bool Tied = false, int MaxPositions = 2048, double RopeTheta = 10000.0);

/// <summary>Writes a randomly initialised model with its tokenizer as a Hugging Face checkpoint directory.</summary>
public static class ModelInitializer
{
    /// <summary>End-of-sequence tokens looked for, in this order, when none is named.</summary>
    public static readonly IReadOnlyList<string> EosCandidates = ["<|endoftext|>", "<|end_of_text|>", "</s>", "<｜end▁of▁sentence｜>"];

    /// <summary>
    /// Creates the model, initialises it from <paramref name="seed"/>, and writes config.json, generation_config.json,
    /// model.safetensors and tokenizer.json to <paramref name="outDir"/>. Returns the config and the parameter count.
    /// </summary>
    public static (ModelConfig Config, long Parameters) Create(ModelShape shape, string tokenizerPath, string outDir, long seed,
        ScalarType storageDtype = ScalarType.Float32, string? eosToken = null)
    {
        if (shape.Arch is not ("qwen2" or "llama"))
        {
            throw new ArgumentException($"--arch '{shape.Arch}' is not supported: use qwen2 or llama.");
        }
        HfTokenizer tokenizer = HfTokenizer.Load(tokenizerPath);
        int eosId = FindEos(tokenizer, tokenizerPath, eosToken);
        var config = new ModelConfig
        {
            Architectures = [shape.Arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
            ModelType = shape.Arch,
            HiddenSize = shape.Hidden,
            NumHiddenLayers = shape.Layers,
            NumAttentionHeads = shape.Heads,
            NumKeyValueHeads = shape.KvHeads,
            IntermediateSize = shape.Intermediate,
            VocabSize = (tokenizer.VocabSize + 63) / 64 * 64, // Padded to a multiple of 64 for matmul speed; ids stay valid.
            MaxPositionEmbeddings = shape.MaxPositions,
            RopeTheta = shape.RopeTheta,
            TieWordEmbeddings = shape.Tied,
            BosTokenId = tokenizer.TokenToId("<|begin_of_text|>") ?? tokenizer.TokenToId("<s>"),
            EosTokenIds = [eosId],
            Extra = new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["use_cache"] = true, ["initializer_range"] = 0.02 },
        };
        config.Validate("options");
        using var model = new CausalLM(config);
        model.InitializeWeights(seed);
        HfCheckpoint.Save(model, outDir, storageDtype);
        AtomicFile.Write(Path.Combine(outDir, HfCheckpoint.TokenizerFile), stream =>
        {
            using FileStream source = File.OpenRead(tokenizerPath);
            source.CopyTo(stream);
        });
        return (config, model.parameters().Sum(p => p.numel()));
    }

    private static int FindEos(HfTokenizer tokenizer, string path, string? requested)
    {
        if (requested is not null)
        {
            return tokenizer.TokenToId(requested) ?? throw new ArgumentException($"--eos '{requested}' is not a token of {path}.");
        }
        foreach (string candidate in EosCandidates)
        {
            if (tokenizer.TokenToId(candidate) is int id)
            {
                return id;
            }
        }
        throw new ArgumentException($"{path} has none of the end-of-sequence tokens {string.Join(", ", EosCandidates)}; name one with --eos.");
    }
}
