using System.CommandLine;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo init-model</c>: a randomly initialised Qwen2 or Llama model written as a Hugging Face checkpoint.</summary>
public static class InitModelCommand
{
    /// <summary>End-of-sequence tokens looked up in the tokenizer, in order of preference.</summary>
    public static readonly IReadOnlyList<string> EosCandidates = ["<|endoftext|>", "<|end_of_text|>", "</s>", "<｜end▁of▁sentence｜>"];

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture: qwen2 or llama.", Required = true };
        arch.AcceptOnlyFromAmong("qwen2", "llama");
        var hidden = new Option<int>("--hidden") { Description = "hidden_size.", Required = true };
        var layers = new Option<int>("--layers") { Description = "num_hidden_layers.", Required = true };
        var heads = new Option<int>("--heads") { Description = "num_attention_heads.", Required = true };
        var kvHeads = new Option<int>("--kv-heads") { Description = "num_key_value_heads (grouped-query attention).", Required = true };
        var intermediate = new Option<int>("--intermediate") { Description = "intermediate_size of the SwiGLU MLP.", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json; sets vocab_size and eos_token_id, and is copied into --out.", Required = true };
        var output = new Option<string>("--out") { Description = "Output checkpoint directory.", Required = true };
        var tied = new Option<bool>("--tied") { Description = "Tie the output projection to the input embedding." };
        var seed = new Option<long>("--seed") { Description = "Initialisation seed.", DefaultValueFactory = _ => 0L };
        var maxPositions = new Option<int>("--max-positions") { Description = "max_position_embeddings.", DefaultValueFactory = _ => 2048 };
        var ropeTheta = new Option<double>("--rope-theta") { Description = "rope_theta.", DefaultValueFactory = _ => 10000.0 };
        var storage = new Option<string>("--storage-dtype") { Description = "Weight dtype in the file: fp32, bf16 or fp16.", DefaultValueFactory = _ => "fp32" };
        var eos = new Option<string?>("--eos") { Description = "The end-of-sequence token (default: the first of " + string.Join(", ", EosCandidates) + " in the tokenizer)." };

        var command = new Command("init-model", "Write a randomly initialised Qwen2/Llama model as a Hugging Face checkpoint (config.json, model.safetensors, generation_config.json, tokenizer.json).");
        foreach (Option option in new Option[] { arch, hidden, layers, heads, kvHeads, intermediate, tokenizer, output, tied, seed, maxPositions, ropeTheta, storage, eos })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => UserErrors.Run(() =>
        {
            TorchRuntime.Initialize();
            string tokenizerPath = parse.GetValue(tokenizer)!;
            HfTokenizer tok = HfTokenizer.Load(tokenizerPath);
            int eosId = FindEos(tok, tokenizerPath, parse.GetValue(eos));
            string modelType = parse.GetValue(arch)!;
            var config = new ModelConfig
            {
                Architectures = [modelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
                ModelType = modelType,
                HiddenSize = parse.GetValue(hidden),
                NumHiddenLayers = parse.GetValue(layers),
                NumAttentionHeads = parse.GetValue(heads),
                NumKeyValueHeads = parse.GetValue(kvHeads),
                IntermediateSize = parse.GetValue(intermediate),
                VocabSize = (tok.VocabSize + 63) / 64 * 64, // Padded to a multiple of 64 for matmul speed; ids stay valid.
                MaxPositionEmbeddings = parse.GetValue(maxPositions),
                RopeTheta = parse.GetValue(ropeTheta),
                TieWordEmbeddings = parse.GetValue(tied),
                BosTokenId = tok.TokenToId("<|begin_of_text|>") ?? tok.TokenToId("<s>"),
                EosTokenIds = [eosId],
                Extra = new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["use_cache"] = true, ["initializer_range"] = 0.02 },
            };
            config.Validate("options");
            string dir = parse.GetValue(output)!;
            using var model = new CausalLM(config);
            model.InitializeWeights(parse.GetValue(seed));
            HfCheckpoint.Save(model, dir, TorchRuntime.ParseDType(parse.GetValue(storage)!));
            AtomicFile.Write(Path.Combine(dir, HfCheckpoint.TokenizerFile), stream =>
            {
                using FileStream source = File.OpenRead(tokenizerPath);
                source.CopyTo(stream);
            });
            long parameters = model.parameters().Sum(p => p.numel());
            Console.WriteLine($"wrote {dir}: {config.CausalLMArchitecture}, {parameters:N0} parameters, vocab_size {config.VocabSize}, eos_token_id {eosId}");
            return 0;
        }));
        return command;
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
