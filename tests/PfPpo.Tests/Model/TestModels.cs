using System.Diagnostics;
using System.Text.Json.Nodes;
using PfPpo.Model;
using static TorchSharp.torch;

namespace PfPpo.Tests.Model;

/// <summary>Tiny configs and helpers shared by the model, checkpoint and generation tests.</summary>
public static class TestModels
{
    public static ModelConfig Tiny(string modelType = "qwen2", bool tied = false, RopeScaling? ropeScaling = null) => new()
    {
        Architectures = [modelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
        ModelType = modelType,
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        IntermediateSize = 48,
        VocabSize = 64,
        MaxPositionEmbeddings = 128,
        RmsNormEps = 1e-6,
        TieWordEmbeddings = tied,
        RopeScaling = ropeScaling,
        BosTokenId = 1,
        EosTokenIds = [2],
    };

    public static readonly RopeScaling Llama3Scaling = new("llama3", 8.0, 1.0, 4.0, 64);

    /// <summary>A randomly initialised model; std 0.3 so logits vary enough for comparisons to mean something.</summary>
    public static CausalLM Create(ModelConfig config, long seed = 1)
    {
        var model = new CausalLM(config);
        model.InitializeWeights(seed, std: 0.3);
        model.eval();
        return model;
    }

    public static Tensor Ids(params long[] ids) => tensor(ids, [1, ids.Length]);

    /// <summary>Max |a - b| over all elements.</summary>
    public static double MaxDiff(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pfppo-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs hf_reference.py (the independent stdlib-only reference) and parses its JSON output.</summary>
    public static JsonNode RunReference(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-I");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Model", "hf_reference.py"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start python3");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("hf_reference.py did not finish");
        }
        Assert.True(process.ExitCode == 0, $"hf_reference.py {string.Join(' ', args)} failed:\n{stderr.Result}");
        return JsonNode.Parse(stdout.Result)!;
    }
}
