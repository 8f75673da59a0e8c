using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Tokenization;
using static TorchSharp.torch;
using Generator = PfPpo.Generation.Generator;

namespace PfPpo.Bench;

/// <summary>
/// The rollout generation workload: N samples of each of the first P problems' eval prompts from a checkpoint (the demo's
/// SFT model by default), in one <see cref="Generator.Generate(IReadOnlyList{string}, SamplingOptions, int, CancellationToken)"/>
/// call, as the collector makes it. Prints the fastest wall time of several runs, tokens/s, and a hash of every sample's
/// token ids and text, so two builds can be checked for identical output.
/// </summary>
internal static class RolloutBenchmark
{
    public static int Run(string[] args)
    {
        string model = "/tmp/demo/sft", problems = "/tmp/demo/tasks/test.jsonl";
        int prompts = 64, samples = 5, runs = 3, maxNewTokens = 128, batchSize = 64;
        double temperature = 1.0;
        bool stop = true;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--problems": problems = Next(); break;
                case "--prompts": prompts = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--samples": samples = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--max-new-tokens": maxNewTokens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch-size": batchSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--temperature": temperature = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-stop": stop = false; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        using CausalLM lm = HfCheckpoint.LoadCausalLM(model);
        lm.eval();
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(model, HfCheckpoint.TokenizerFile));
        string[] texts = ProblemSet.Load(problems).Problems.Take(prompts).Select(p => EvalPrompt.For(p).Text).ToArray();
        var options = new SamplingOptions
        {
            MaxNewTokens = maxNewTokens, Temperature = temperature, NumSamples = samples, Seed = 1234, MicroBatchSize = batchSize,
            StopStrings = stop ? EvalPrompt.StopStrings : [], EosTokenIds = HfCheckpoint.LoadEosTokenIds(model),
        };
        var generator = new Generator(lm, tokenizer);
        generator.Generate(texts.Take(2).ToArray(), options with { MaxNewTokens = 4 }); // warm-up
        double best = double.MaxValue;
        IReadOnlyList<GeneratedSample> result = [];
        for (int run = 0; run < runs; run++)
        {
            var watch = Stopwatch.StartNew();
            result = generator.Generate(texts, options);
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        long tokens = result.Sum(s => s.TokenIds.Length);
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n",
            result.Select(s => string.Join(",", s.TokenIds) + "|" + s.Text))))).ToLowerInvariant()[..16];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rollouts: {texts.Length} prompts x {samples} samples, T={temperature}, max {maxNewTokens} new tokens, batch {batchSize}, stop strings {(stop ? "on" : "off")}, {get_num_threads()} threads"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fastest of {runs}: {best:F2} s, {tokens} tokens, {tokens / best:F0} tokens/s, output hash {hash}"));
        return 0;
    }
}
