using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Tests.Model;
using PfPpo.Tests.Tokenization;

namespace PfPpo.Tests.Cli;

public class ModelCommandsTests
{
    private static string InitModel(string arch, params string[] extra)
    {
        string root = TestModels.TempDir();
        string tokenizer = Path.Combine(root, "tokenizer.json");
        File.WriteAllText(tokenizer, TokenizerFixture.Qwen2().Merge("d", "e").Merge("de", "f").Added("<|endoftext|>", 300).Json());
        string dir = Path.Combine(root, "model");
        var result = CliRunner.Run([
            "init-model", "--arch", arch, "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2",
            "--intermediate", "64", "--tokenizer", tokenizer, "--out", dir, "--seed", "3", .. extra]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("eos_token_id 300", result.StdOut);
        return dir;
    }

    [Fact]
    public void InitModelWritesAValidHuggingFaceCheckpoint()
    {
        string dir = InitModel("llama", "--tied", "--storage-dtype", "bf16");
        foreach (string file in new[] { "config.json", "model.safetensors", "generation_config.json", "tokenizer.json" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        }
        JsonNode check = TestModels.RunReference("check", dir, "[100, 101, 102]", "1");
        JsonNode config = check["config"]!;
        Assert.Equal("LlamaForCausalLM", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(320, config["vocab_size"]!.GetValue<int>());
        Assert.Equal(300, config["eos_token_id"]!.GetValue<int>());
        Assert.True(config["tie_word_embeddings"]!.GetValue<bool>());
        Assert.Equal("bfloat16", config["torch_dtype"]!.GetValue<string>());
        Assert.DoesNotContain("lm_head.weight", check["names"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void GenerateJsonIsSeededAndGreedyMatchesTheLibrary()
    {
        string dir = InitModel("qwen2");
        string[] sampled = ["generate", "--model", dir, "--prompt", "def f(x):", "--max-new-tokens", "6", "--n", "3", "--seed", "11", "--json", "--threads", "1"];
        var first = CliRunner.Run(sampled);
        Assert.True(first.ExitCode == 0, first.StdErr);
        Assert.Equal(first.StdOut, CliRunner.Run(sampled).StdOut);
        JsonNode json = JsonNode.Parse(first.StdOut)!;
        Assert.Equal(3, json["completions"]!.AsArray().Count);
        Assert.Equal(3, json["token_ids"]!.AsArray().Count);
        for (int i = 0; i < 3; i++)
        {
            int tokens = json["token_ids"]![i]!.AsArray().Count;
            Assert.InRange(tokens, 1, 6);
            Assert.Equal(tokens, json["logprobs"]![i]!.AsArray().Count);
            Assert.All(json["logprobs"]![i]!.AsArray(), l => Assert.True(l!.GetValue<double>() <= 0));
        }

        var greedy = CliRunner.Run("generate", "--model", dir, "--prompt", "def f(x):", "--max-new-tokens", "4", "--temperature", "0", "--json");
        Assert.True(greedy.ExitCode == 0, greedy.StdErr);
        int[] cliTokens = JsonNode.Parse(greedy.StdOut)!["token_ids"]![0]!.AsArray().Select(t => t!.GetValue<int>()).ToArray();
        using var model = HfCheckpoint.LoadCausalLM(dir);
        var tokenizer = PfPpo.Tokenization.HfTokenizer.Load(Path.Combine(dir, "tokenizer.json"));
        var sample = new PfPpo.Generation.Generator(model, tokenizer).Generate(["def f(x):"],
            new PfPpo.Generation.SamplingOptions { Temperature = 0, MaxNewTokens = 4, EosTokenIds = [300] })[0];
        Assert.Equal(sample.TokenIds, cliTokens);

        var bf16 = CliRunner.Run("generate", "--model", dir, "--prompt", "def f(x):", "--max-new-tokens", "4", "--temperature", "0", "--dtype", "bf16", "--stop", "zz");
        Assert.True(bf16.ExitCode == 0, bf16.StdErr);
        Assert.StartsWith("--- sample 0 (", bf16.StdOut);
    }

    [Fact]
    public void UserErrorsPrintOneLineWithoutAStackTrace()
    {
        var missing = CliRunner.Run("generate", "--model", "/nonexistent/model", "--prompt", "x");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.StartsWith("error: ", missing.StdErr);
        Assert.Contains("/nonexistent/model", missing.StdErr);
        Assert.DoesNotContain("   at ", missing.StdErr);

        string dir = InitModel("qwen2");
        var badTemperature = CliRunner.Run("generate", "--model", dir, "--prompt", "x", "--temperature", "-2");
        Assert.NotEqual(0, badTemperature.ExitCode);
        Assert.Contains("--temperature must be a finite number in [0, 100], got -2", badTemperature.StdErr); // the flag, not a property

        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "garbage");
        var corrupt = CliRunner.Run("generate", "--model", dir, "--prompt", "x");
        Assert.NotEqual(0, corrupt.ExitCode);
        Assert.StartsWith("error: ", corrupt.StdErr);
        Assert.Contains("model.safetensors", corrupt.StdErr);

        var badHeads = CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "30", "--layers", "1", "--heads", "4", "--kv-heads", "2",
            "--intermediate", "8", "--tokenizer", Path.Combine(dir, "tokenizer.json"), "--out", Path.Combine(dir, "x"));
        Assert.NotEqual(0, badHeads.ExitCode);
        Assert.Contains("hidden_size (30) is not divisible by num_attention_heads (4)", badHeads.StdErr);
    }
}
