using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Generation;
using PfPpo.Runtime;
using PfPpo.Tokenization;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo generate</c>: sample completions of one prompt from a Hugging Face checkpoint.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var defaults = new SamplingOptions();
        var model = new Option<string>("--model") { Description = "Hugging Face checkpoint directory (with tokenizer.json).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text, encoded exactly as given (no BOS or chat template added).", Required = true };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Most tokens generated per sample.", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => defaults.Temperature };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold (1 = off).", DefaultValueFactory = _ => defaults.TopP };
        var topK = new Option<int>("--top-k") { Description = "Sample among the K most likely tokens (0 = off).", DefaultValueFactory = _ => defaults.TopK };
        var samples = new Option<int>("--n") { Description = "Samples to draw.", DefaultValueFactory = _ => 1 };
        var seed = new Option<long>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0L };
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable); the text is cut before it." };
        var json = new Option<bool>("--json") { Description = "Print {\"completions\", \"token_ids\", \"logprobs\", \"finish_reasons\"} as one JSON object." };
        var batchSize = new Option<int>("--batch-size") { Description = "Samples decoded together.", DefaultValueFactory = _ => defaults.MicroBatchSize };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: fp32, bf16 or fp16.", DefaultValueFactory = _ => "fp32" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all cores)." };

        var command = new Command("generate", "Sample completions of a prompt (greedy, temperature, top-p, top-k) with the KV cache.");
        foreach (Option option in new Option[] { model, prompt, maxNewTokens, temperature, topP, topK, samples, seed, stop, json, batchSize, device, dtype, threads })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => UserErrors.Run(() =>
        {
            TorchRuntime.Initialize(parse.GetValue(threads));
            string dir = parse.GetValue(model)!;
            var options = new SamplingOptions
            {
                MaxNewTokens = parse.GetValue(maxNewTokens),
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                TopK = parse.GetValue(topK),
                NumSamples = parse.GetValue(samples),
                Seed = parse.GetValue(seed),
                StopStrings = parse.GetValue(stop) ?? [],
                EosTokenIds = HfCheckpoint.LoadEosTokenIds(dir),
                MicroBatchSize = parse.GetValue(batchSize),
            };
            options.Validate();
            var tokenizer = HfTokenizer.Load(Path.Combine(dir, HfCheckpoint.TokenizerFile));
            using var lm = HfCheckpoint.LoadCausalLM(dir, TorchRuntime.ParseDevice(parse.GetValue(device)!), TorchRuntime.ParseDType(parse.GetValue(dtype)!));
            IReadOnlyList<GeneratedSample> results = new Generator(lm, tokenizer).Generate([parse.GetValue(prompt)!], options);
            if (parse.GetValue(json))
            {
                var output = new JsonObject
                {
                    ["completions"] = new JsonArray(results.Select(r => (JsonNode?)r.Text).ToArray()),
                    ["token_ids"] = new JsonArray(results.Select(r => (JsonNode?)new JsonArray(r.TokenIds.Select(t => (JsonNode?)t).ToArray())).ToArray()),
                    ["logprobs"] = new JsonArray(results.Select(r => (JsonNode?)new JsonArray(r.Logprobs.Select(l => (JsonNode?)l).ToArray())).ToArray()),
                    ["finish_reasons"] = new JsonArray(results.Select(r => (JsonNode?)r.FinishReason.ToString().ToLowerInvariant()).ToArray()),
                };
                Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                foreach (GeneratedSample sample in results)
                {
                    Console.WriteLine($"--- sample {sample.SampleIndex} ({sample.TokenIds.Length} tokens, {sample.FinishReason.ToString().ToLowerInvariant()}, logprob {sample.Logprobs.Sum():F3}) ---");
                    Console.WriteLine(sample.Text);
                }
            }
            return 0;
        }));
        return command;
    }
}
