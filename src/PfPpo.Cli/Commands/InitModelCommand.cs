using System.CommandLine;
using PfPpo.Model;
using PfPpo.Runtime;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo init-model</c>: a randomly initialised Qwen2 or Llama model written as a Hugging Face checkpoint.</summary>
public static class InitModelCommand
{
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
            (ModelConfig config, long parameters) = ModelInitializer.Create(shape, parse.GetValue(tokenizer)!, dir, parse.GetValue(seed),
                TorchRuntime.ParseDType(parse.GetValue(storage)!), parse.GetValue(eos));
            Console.WriteLine($"wrote {dir}: {config.CausalLMArchitecture}, {parameters:N0} parameters, vocab_size {config.VocabSize}, eos_token_id {config.EosTokenIds[0]}");
            return 0;
        }));
        return command;
    }
}
