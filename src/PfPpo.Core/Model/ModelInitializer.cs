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
        ModelConfig config = Configure(shape, tokenizerPath, eosToken);
        return (config, Create(config, tokenizerPath, outDir, seed, storageDtype));
    }

    /// <summary>The config of a new model of <paramref name="shape"/> with this tokenizer's vocabulary and EOS; allocates nothing.</summary>
    public static ModelConfig Configure(ModelShape shape, string tokenizerPath, string? eosToken = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
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
        return config;
    }

    /// <summary>
    /// About how many bytes of host memory initialising and saving a model of <paramref name="config"/> takes: its fp32
    /// weights, plus their copy in <paramref name="storageDtype"/> on the way to the file.
    /// </summary>
    public static long EstimateMemoryBytes(ModelConfig config, ScalarType storageDtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        long parameters = config.CausalLMParameterCount();
        long storageBytes = storageDtype == ScalarType.Float32 ? 4 : 2;
        return parameters * (4 + storageBytes);
    }

    /// <summary>
    /// The memory this process can still use: the smaller of the kernel's MemAvailable (/proc/meminfo) and the runtime's
    /// limit (which follows a container's cgroup limit).
    /// </summary>
    public static long AvailableMemoryBytes()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        available = available > 0 ? available : long.MaxValue;
        const string MemInfo = "/proc/meminfo";
        if (File.Exists(MemInfo))
        {
            foreach (string line in File.ReadLines(MemInfo))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == "MemAvailable:" && long.TryParse(parts[1], out long kib))
                {
                    available = Math.Min(available, kib * 1024);
                }
            }
        }
        return available;
    }

    /// <summary>
    /// Initialises a model of <paramref name="config"/> from <paramref name="seed"/> and writes it with the tokenizer to
    /// <paramref name="outDir"/>; returns the parameter count. A model that cannot fit in this machine's memory is refused
    /// before anything is allocated or written (<see cref="InsufficientMemoryException"/>, with the numbers).
    /// </summary>
    public static long Create(ModelConfig config, string tokenizerPath, string outDir, long seed, ScalarType storageDtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(config);
        long needed = EstimateMemoryBytes(config, storageDtype);
        long available = AvailableMemoryBytes();
        if (needed > available)
        {
            throw new InsufficientMemoryException(
                $"a model of {config.CausalLMParameterCount():N0} parameters needs about {FormatBytes(needed)} of memory to initialise and save, " +
                $"but this machine has {FormatBytes(available)} available: choose a smaller --hidden, --layers, --intermediate or vocabulary.");
        }
        using var model = new CausalLM(config);
        model.InitializeWeights(seed);
        HfCheckpoint.Save(model, outDir, storageDtype);
        AtomicFile.Write(Path.Combine(outDir, HfCheckpoint.TokenizerFile), stream =>
        {
            using FileStream source = File.OpenRead(tokenizerPath);
            source.CopyTo(stream);
        });
        return model.parameters().Sum(p => p.numel());
    }

    /// <summary><paramref name="bytes"/> with one decimal in GiB, or MiB below 1 GiB: "12.5 GiB", "0.4 MiB".</summary>
    public static string FormatBytes(long bytes) => bytes >= 1L << 30
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");

    private static int FindEos(HfTokenizer tokenizer, string path, string? requested)
    {
        if (requested is not null)
        {
            return tokenizer.TokenToId(requested) ?? throw new DataFormatException($"{path}: has no token '{requested}' (given with --eos).");
        }
        foreach (string candidate in EosCandidates)
        {
            if (tokenizer.TokenToId(candidate) is int id)
            {
                return id;
            }
        }
        throw new DataFormatException($"{path}: has none of the end-of-sequence tokens {string.Join(", ", EosCandidates)}; name one with --eos.");
    }
}
