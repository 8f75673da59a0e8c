using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Generation;
using PfPpo.Tokenization;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo generate</c>: sample completions of one prompt from a Hugging Face checkpoint.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var defaults = new SamplingOptions();
        var shared = ModelOptions.Create(model: "Hugging Face checkpoint directory (with tokenizer.json).", seed: "Random seed.");
        var prompt = new Option<string>("--prompt") { Description = "Prompt text, encoded exactly as given (no BOS or chat template added).", Required = true };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Most tokens generated per sample (capped at the model's context).", DefaultValueFactory = _ => defaults.MaxNewTokens }.InRange(1);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => defaults.Temperature }.InRange(0, 100);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold (1 = off).", DefaultValueFactory = _ => defaults.TopP }.InRange(0, 1, minInclusive: false);
        var topK = new Option<int>("--top-k") { Description = "Sample among the K most likely tokens (0 = off).", DefaultValueFactory = _ => defaults.TopK }.InRange(0);
        var samples = new Option<int>("--n") { Description = "Samples to draw.", DefaultValueFactory = _ => 1 }.InRange(1, 100_000);
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable); the text is cut before it." };
        stop.Validators.Add(result =>
        {
            if (result.Tokens.Any(t => t.Value.Length == 0))
            {
                result.AddError("--stop must not be an empty string.");
            }
        });
        var json = new Option<bool>("--json") { Description = "Print {\"completions\", \"token_ids\", \"logprobs\", \"finish_reasons\"} as one JSON object." };
        var batchSize = new Option<int>("--batch-size") { Description = "Samples decoded together.", DefaultValueFactory = _ => defaults.MicroBatchSize }.InRange(1, 65_536);

        var command = new Command("generate", "Sample completions of a prompt (greedy, temperature, top-p, top-k) with the KV cache.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { prompt, maxNewTokens, temperature, topP, topK, samples, stop, json, batchSize })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => UserErrors.Run(() =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            string dir = common.Model!;
            var options = new SamplingOptions
            {
                MaxNewTokens = parse.GetValue(maxNewTokens),
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                TopK = parse.GetValue(topK),
                NumSamples = parse.GetValue(samples),
                Seed = common.Seed,
                StopStrings = parse.GetValue(stop) ?? [],
                EosTokenIds = HfCheckpoint.LoadEosTokenIds(dir),
                MicroBatchSize = parse.GetValue(batchSize),
            };
            var tokenizer = HfTokenizer.Load(Path.Combine(dir, HfCheckpoint.TokenizerFile));
            IReadOnlyList<int> promptIds = tokenizer.Encode(parse.GetValue(prompt)!);
            if (promptIds.Count == 0)
            {
                throw new UsageException("--prompt encodes to no tokens; give some text.");
            }
            options = options with
            {
                MaxNewTokens = ContextLimit.Cap(options.MaxNewTokens, promptIds.Count, HfCheckpoint.LoadConfig(dir).MaxPositionEmbeddings, "the prompt"),
            };
            using var lm = HfCheckpoint.LoadCausalLM(dir, common.Device, common.DType);
            IReadOnlyList<GeneratedSample> results = new Generator(lm, tokenizer).Generate([promptIds], options);
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
