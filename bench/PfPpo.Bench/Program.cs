using System.Diagnostics;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Runtime;
using static TorchSharp.torch;
using Generator = PfPpo.Generation.Generator;

// Benchmarks, printed as plain-text tables. Run in Release:
//   dotnet run -c Release --project bench/PfPpo.Bench -- generation|training|sft-loss|sandbox|rollouts
TorchRuntime.Initialize();
switch (args)
{
    case ["generation"]:
        ModelBenchmarks.Generation();
        return 0;
    case ["training"]:
        ModelBenchmarks.Training();
        return 0;
    case ["sandbox", .. var rest]:
        return await PfPpo.Bench.SandboxBenchmark.RunAsync(rest);
    case ["sft-loss"]:
        PfPpo.Bench.SftLossBenchmark.Run();
        return 0;
    case ["rollouts", .. var rest]:
        return PfPpo.Bench.RolloutBenchmark.Run(rest);
    default:
        Console.Error.WriteLine("usage: PfPpo.Bench generation | training | sft-loss | sandbox [--problems N] [--workers N] [--rounds N] [--pool-workers N] | rollouts [--model DIR] [--problems JSONL] [--prompts 64] [--samples 5] [--runs 3] [--batch-size 64] [--no-stop]");
        return 2;
}

internal static class ModelBenchmarks
{
    /// <summary>~1M and ~10M parameter Qwen2-style models (tied embeddings, grouped-query attention).</summary>
    private static readonly (string Name, ModelConfig Config)[] Models =
    [
        ("1M", Config(hidden: 128, layers: 4, heads: 4, kvHeads: 2, intermediate: 352, vocab: 2048)),
        ("10M", Config(hidden: 256, layers: 10, heads: 4, kvHeads: 2, intermediate: 704, vocab: 8192)),
    ];

    private static ModelConfig Config(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab) => new()
    {
        Architectures = ["Qwen2ForCausalLM"],
        ModelType = "qwen2",
        HiddenSize = hidden,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        IntermediateSize = intermediate,
        VocabSize = vocab,
        TieWordEmbeddings = true,
    };

    public static void Generation()
    {
        const int promptLength = 16, newTokens = 32;
        Console.WriteLine($"generation: greedy, prompt {promptLength} tokens, {newTokens} new tokens per row, fp32, {get_num_threads()} threads, fastest of up to 3 runs");
        Console.WriteLine($"{"model",-6} {"params",10} {"batch",6} {"kv cache",9} {"seconds",9} {"new tok/s",10}");
        foreach ((string name, ModelConfig config) in Models)
        {
            using var model = new CausalLM(config);
            model.InitializeWeights(1);
            var generator = new Generator(model);
            long parameters = model.parameters().Sum(p => p.numel());
            foreach (int batch in new[] { 1, 64 })
            {
                var random = new Random(batch);
                IReadOnlyList<int>[] prompts = Enumerable.Range(0, batch)
                    .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, promptLength).Select(_ => random.Next(config.VocabSize)).ToArray()).ToArray();
                foreach (bool cache in new[] { true, false })
                {
                    var options = new SamplingOptions { Temperature = 0, MaxNewTokens = newTokens, EosTokenIds = [], MicroBatchSize = batch, UseKvCache = cache };
                    generator.Generate(prompts.Take(Math.Min(batch, 4)).ToArray(), options with { MaxNewTokens = 4 }); // warm-up
                    // The machine is shared: short runs are repeated and the fastest is reported.
                    double seconds = double.MaxValue;
                    long generated = 0;
                    for (int run = 0; run < 3 && (run == 0 || seconds < 3); run++)
                    {
                        var watch = Stopwatch.StartNew();
                        var samples = generator.Generate(prompts, options);
                        seconds = Math.Min(seconds, watch.Elapsed.TotalSeconds);
                        generated = samples.Sum(s => s.TokenIds.Length);
                    }
                    Console.WriteLine($"{name,-6} {parameters,10:N0} {batch,6} {(cache ? "yes" : "no"),9} {seconds,9:F2} {generated / seconds,10:F0}");
                }
            }
        }
    }

    public static void Training()
    {
        const int batch = 8, length = 256, steps = 5;
        Console.WriteLine($"training: forward + backward (no optimizer step), batch {batch} x {length} tokens, fp32, {get_num_threads()} threads, fastest of {steps} steps");
        double matmul = MatmulGflops();
        Console.WriteLine($"plain fp32 matmul 2048x2048x2048: {matmul:F0} GFLOP/s (fastest of 10; the ceiling)");
        Console.WriteLine($"{"model",-6} {"params",10} {"tokens/s",9} {"GFLOP/s",8} {"of matmul",10}");
        foreach ((string name, ModelConfig config) in Models)
        {
            using var model = new CausalLM(config);
            model.InitializeWeights(1);
            model.train();
            long parameters = model.parameters().Sum(p => p.numel());
            // FLOPs per token: 6 x (matmul weights, counting the tied output projection) + attention scores and values
            // (6 x 2 x layers x length x heads x head_dim, the PaLM convention, not halved for the causal mask).
            long matmulParameters = parameters - config.HiddenSize * 2L * config.NumHiddenLayers - config.HiddenSize;
            double flopsPerToken = 6.0 * matmulParameters + 12.0 * config.NumHiddenLayers * length * config.NumAttentionHeads * config.HeadDim;
            using var ids = randint(config.VocabSize, [batch, length], dtype: ScalarType.Int64);
            Step(model, ids); // warm-up
            double seconds = double.MaxValue; // fastest step: the machine is shared
            for (int i = 0; i < steps; i++)
            {
                var watch = Stopwatch.StartNew();
                Step(model, ids);
                seconds = Math.Min(seconds, watch.Elapsed.TotalSeconds);
            }
            double tokensPerSecond = (double)batch * length / seconds;
            double gflops = tokensPerSecond * flopsPerToken / 1e9;
            Console.WriteLine($"{name,-6} {parameters,10:N0} {tokensPerSecond,9:F0} {gflops,8:F1} {gflops / matmul,10:P0}");
        }
    }

    private static void Step(CausalLM model, Tensor ids)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        Tensor logits = model.forward(ids, null);                                              // [B, T, V]
        Tensor loss = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, logits.shape[^1]), ids[.., 1..].reshape(-1));
        loss.backward();
    }

    private static double MatmulGflops()
    {
        const int n = 2048, repeats = 10;
        using var scope = NewDisposeScope();
        Tensor a = randn(n, n), b = randn(n, n);
        matmul(a, b).Dispose();
        double best = double.MaxValue; // fastest of several: the machine is shared
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            matmul(a, b).Dispose();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
