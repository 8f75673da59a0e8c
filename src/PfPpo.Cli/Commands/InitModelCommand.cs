using System.CommandLine;
using PfPpo.Model;
using PfPpo.Runtime;
using static TorchSharp.torch;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo init-model</c>: a randomly initialised Qwen2 or Llama model written as a Hugging Face checkpoint.</summary>
public static class InitModelCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture: qwen2 or llama.", Required = true };
        arch.AcceptOnlyFromAmong("qwen2", "llama");
        var hidden = new Option<int>("--hidden") { Description = "hidden_size.", Required = true }.InRange(1, 1 << 20);
        var layers = new Option<int>("--layers") { Description = "num_hidden_layers.", Required = true }.InRange(1, 1024);
        var heads = new Option<int>("--heads") { Description = "num_attention_heads.", Required = true }.InRange(1, 1 << 16);
        var kvHeads = new Option<int>("--kv-heads") { Description = "num_key_value_heads (grouped-query attention).", Required = true }.InRange(1, 1 << 16);
        var intermediate = new Option<int>("--intermediate") { Description = "intermediate_size of the SwiGLU MLP.", Required = true }.InRange(1, 1 << 22);
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json; sets vocab_size and eos_token_id, and is copied into --out.", Required = true }
            .AcceptExistingFile();
        var output = new Option<string>("--out") { Description = "Output checkpoint directory.", Required = true }.AcceptWritableFolder();
        var tied = new Option<bool>("--tied") { Description = "Tie the output projection to the input embedding." };
        var seed = new Option<long>("--seed") { Description = "Initialisation seed.", DefaultValueFactory = _ => 0L };
        var maxPositions = new Option<int>("--max-positions") { Description = "max_position_embeddings.", DefaultValueFactory = _ => 2048 }.InRange(2, 1 << 24);
        var ropeTheta = new Option<double>("--rope-theta") { Description = "rope_theta.", DefaultValueFactory = _ => 10000.0 }.InRange(1, minInclusive: false);
        var storage = new Option<string>("--storage-dtype") { Description = "Weight dtype in the file: fp32, bf16 or fp16.", DefaultValueFactory = _ => "fp32" };
        storage.AcceptOnlyFromAmong("fp32", "bf16", "fp16");
        var eos = new Option<string?>("--eos") { Description = "The end-of-sequence token (default: the first of " + string.Join(", ", ModelInitializer.EosCandidates) + " in the tokenizer)." };

        var command = new Command("init-model", "Write a randomly initialised Qwen2/Llama model as a Hugging Face checkpoint (config.json, model.safetensors, generation_config.json, tokenizer.json).");
        foreach (Option option in new Option[] { arch, hidden, layers, heads, kvHeads, intermediate, tokenizer, output, tied, seed, maxPositions, ropeTheta, storage, eos })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => UserErrors.Run(() =>
        {
            TorchRuntime.Initialize();
            string dir = parse.GetValue(output)!;
            var shape = new ModelShape(parse.GetValue(arch)!, parse.GetValue(hidden), parse.GetValue(layers), parse.GetValue(heads),
                parse.GetValue(kvHeads), parse.GetValue(intermediate), parse.GetValue(tied), parse.GetValue(maxPositions), parse.GetValue(ropeTheta));
            string tokenizerPath = parse.GetValue(tokenizer)!;
            ScalarType storageDtype = TorchRuntime.ParseDType(parse.GetValue(storage)!);
            ModelConfig config = ModelInitializer.Configure(shape, tokenizerPath, parse.GetValue(eos));
            Console.WriteLine($"{config.CausalLMParameterCount():N0} parameters; about " +
                $"{ModelInitializer.FormatBytes(ModelInitializer.EstimateMemoryBytes(config, storageDtype))} of memory to initialise and save " +
                $"({ModelInitializer.FormatBytes(ModelInitializer.AvailableMemoryBytes())} available)");
            long parameters = ModelInitializer.Create(config, tokenizerPath, dir, parse.GetValue(seed), storageDtype);
            Console.WriteLine($"wrote {dir}: {config.CausalLMArchitecture}, {parameters:N0} parameters, vocab_size {config.VocabSize}, eos_token_id {config.EosTokenIds[0]}");
            return 0;
        }));
        return command;
    }
}
