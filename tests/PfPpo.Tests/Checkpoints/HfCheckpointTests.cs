using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Tests.Model;
using static TorchSharp.torch;
using Generator = PfPpo.Generation.Generator;

namespace PfPpo.Tests.Checkpoints;

public class HfCheckpointTests
{
    [Theory]
    [InlineData("qwen2", false, ScalarType.Float32, null)]
    [InlineData("llama", true, ScalarType.Float32, 20_000L)]
    [InlineData("qwen2", true, ScalarType.BFloat16, 30_000L)]
    public void SaveThenLoadGivesIdenticalLogits(string arch, bool tied, ScalarType storage, long? shardBytes)
    {
        using var model = TestModels.Create(TestModels.Tiny(arch, tied, arch == "llama" ? TestModels.Llama3Scaling : null));
        if (storage != ScalarType.Float32)
        {
            // Round the weights to the storage dtype first, so the reload must be exact.
            using var _ = no_grad();
            foreach (var p in model.parameters())
            {
                p.copy_(p.to(storage).to(ScalarType.Float32));
            }
        }
        string dir = TestModels.TempDir();
        HfCheckpoint.Save(model, dir, storage, shardBytes);
        Assert.Equal(shardBytes is not null, File.Exists(Path.Combine(dir, HfCheckpoint.IndexFile)));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

        using var loaded = HfCheckpoint.LoadCausalLM(dir);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = TestModels.Ids(3, 14, 15, 9, 26, 5);
        Assert.Equal(0.0, TestModels.MaxDiff(model.forward(ids, null), loaded.forward(ids, null)));
        Assert.Equal(
            (model.Config with { TorchDtype = Safetensors.TorchDTypeName(storage) }).ToJson().ToJsonString(),
            loaded.Config.ToJson().ToJsonString());
    }

    [Fact]
    public void CheckpointsFromTheIndependentReferenceGiveItsLogitsGreedyTokensAndLogprobs()
    {
        string root = TestModels.TempDir();
        JsonArray cases = TestModels.RunReference("write", root).AsArray();
        Assert.Equal(5, cases.Count);
        foreach (JsonNode? c in cases)
        {
            string name = c!["name"]!.GetValue<string>();
            using var model = HfCheckpoint.LoadCausalLM(c["dir"]!.GetValue<string>());
            int[] prompt = c["prompt"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                Tensor logits = model.forward(TestModels.Ids(prompt.Select(x => (long)x).ToArray()), null)[0];
                Tensor expected = tensor(c["logits"]!.AsArray().SelectMany(row => row!.AsArray().Select(x => x!.GetValue<double>())).ToArray(),
                    logits.shape).to(ScalarType.Float32);
                double diff = TestModels.MaxDiff(logits, expected);
                Assert.True(diff < 1e-4, $"{name}: max logit diff {diff}");
            }
            int[] greedy = c["greedy"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            double[] logprobs = c["logprobs"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            var sample = new Generator(model).Generate([prompt], new SamplingOptions { Temperature = 0, MaxNewTokens = greedy.Length, EosTokenIds = [] })[0];
            Assert.Equal(greedy, sample.TokenIds);
            for (int i = 0; i < greedy.Length; i++)
            {
                Assert.True(Math.Abs(logprobs[i] - sample.Logprobs[i]) < 1e-4, $"{name}: logprob {i}: {sample.Logprobs[i]} vs {logprobs[i]}");
            }
        }
    }

    [Theory]
    [InlineData("qwen2", true, ScalarType.BFloat16, 25_000L)]
    [InlineData("llama", false, ScalarType.Float32, null)]
    [InlineData("llama", true, ScalarType.Float16, null)]
    public void CheckpointsWrittenByPfPpoAreReadByTheIndependentReader(string arch, bool tied, ScalarType storage, long? shardBytes)
    {
        var config = TestModels.Tiny(arch, tied, arch == "llama" ? TestModels.Llama3Scaling : null) with { EosTokenIds = [2, 3] };
        using var model = TestModels.Create(config);
        string dir = TestModels.TempDir();
        HfCheckpoint.Save(model, dir, storage, shardBytes);
        JsonNode result = TestModels.RunReference("check", dir, "[3, 14, 15, 9, 26]", "3");

        // The reference computed its logits from the stored (rounded) weights; so does a reload.
        using var loaded = HfCheckpoint.LoadCausalLM(dir);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor logits = loaded.forward(TestModels.Ids(3, 14, 15, 9, 26), null)[0];
        Tensor expected = tensor(result["logits"]!.AsArray().SelectMany(row => row!.AsArray().Select(x => x!.GetValue<double>())).ToArray(),
            logits.shape).to(ScalarType.Float32);
        Assert.True(TestModels.MaxDiff(logits, expected) < 1e-4);
        Assert.Equal(arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM", result["config"]!["architectures"]![0]!.GetValue<string>());
        Assert.Equal(tied, result["names"]!.AsArray().All(n => n!.GetValue<string>() != "lm_head.weight"));
    }

    [Fact]
    public void ScalarHeadLoadsTheBackboneOfACausalLMAndSavesAsSequenceClassification()
    {
        using var lm = TestModels.Create(TestModels.Tiny("qwen2", tied: true));
        string lmDir = TestModels.TempDir();
        HfCheckpoint.Save(lm, lmDir);
        using var head = HfCheckpoint.LoadScalarHead(lmDir, seed: 7);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Tensor ids = TestModels.Ids(5, 6, 7);
            Assert.Equal(0.0, TestModels.MaxDiff(lm.HiddenStates(ids, null), head.HiddenStates(ids, null)));
        }

        string headDir = TestModels.TempDir();
        HfCheckpoint.Save(head, headDir);
        JsonNode result = TestModels.RunReference("check", headDir, "[1]", "0");
        Assert.Equal("Qwen2ForSequenceClassification", result["config"]!["architectures"]![0]!.GetValue<string>());
        Assert.Contains("score.weight", result["names"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(2, result["config"]!["pad_token_id"]!.GetValue<int>()); // HF needs it to score batches

        using var reloaded = HfCheckpoint.LoadScalarHead(headDir, seed: 99);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Tensor ids = TestModels.Ids(5, 6, 7);
            Assert.Equal(0.0, TestModels.MaxDiff(head.forward(ids, null), reloaded.forward(ids, null)));
        }
        var error = Assert.Throws<InvalidDataException>(() => HfCheckpoint.LoadCausalLM(headDir));
        Assert.Contains("scalar-head", error.Message);
    }

    [Fact]
    public void TruncatedWeightsGiveAClearError()
    {
        using var model = TestModels.Create(TestModels.Tiny());
        string dir = TestModels.TempDir();
        HfCheckpoint.Save(model, dir);
        string weights = Path.Combine(dir, HfCheckpoint.WeightsFile);
        using (var stream = new FileStream(weights, FileMode.Open))
        {
            stream.SetLength(stream.Length - 100);
        }
        var error = Assert.Throws<InvalidDataException>(() => HfCheckpoint.LoadCausalLM(dir));
        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("truncated", error.Message);

        using (var stream = new FileStream(weights, FileMode.Open))
        {
            stream.SetLength(6);
        }
        error = Assert.Throws<InvalidDataException>(() => HfCheckpoint.LoadCausalLM(dir));
        Assert.Contains("too short", error.Message);
    }

    [Fact]
    public void MismatchedMissingAndUnexpectedTensorsAreNamed()
    {
        using var model = TestModels.Create(TestModels.Tiny("llama"));
        string dir = TestModels.TempDir();
        HfCheckpoint.Save(model, dir);
        string configPath = Path.Combine(dir, HfCheckpoint.ConfigFile);

        // A config that disagrees with the weights: intermediate size and biases.
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["intermediate_size"] = 40;
        config["attention_bias"] = true;
        File.WriteAllText(configPath, config.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => HfCheckpoint.LoadCausalLM(dir));
        Assert.Contains("'model.layers.0.mlp.gate_proj.weight' has shape [48, 32], expected [40, 32]", error.Message);
        Assert.Contains("missing tensor 'model.layers.0.self_attn.q_proj.bias'", error.Message);

        // Tied config, but the file has lm_head.weight: accepted (HF ignores it); a stray tensor is not.
        config["intermediate_size"] = 48;
        config["attention_bias"] = false;
        config["num_hidden_layers"] = 1;
        File.WriteAllText(configPath, config.ToJsonString());
        error = Assert.Throws<InvalidDataException>(() => HfCheckpoint.LoadCausalLM(dir));
        Assert.Contains("unexpected tensor 'model.layers.1.mlp.down_proj.weight'", error.Message);
    }

    [Theory]
    [InlineData("model_type", "\"gpt2\"", "model_type 'gpt2' is not supported")]
    [InlineData("rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4.0}", "rope_scaling.rope_type 'yarn' is not supported")]
    [InlineData("num_key_value_heads", "3", "num_attention_heads (4) is not divisible by num_key_value_heads (3)")]
    [InlineData("architectures", "[\"MistralForCausalLM\"]", "architectures entry 'MistralForCausalLM' is not supported")]
    [InlineData("hidden_size", "\"big\"", "field hidden_size has value \"big\"")]
    [InlineData("use_sliding_window", "true", "sliding-window attention is not supported")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act 'gelu' is not supported")]
    public void UnsupportedConfigsAreRejectedNamingTheField(string field, string json, string expected)
    {
        string dir = TestModels.TempDir();
        var config = TestModels.Tiny().ToJson();
        config[field] = JsonNode.Parse(json);
        File.WriteAllText(Path.Combine(dir, HfCheckpoint.ConfigFile), config.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => HfCheckpoint.LoadConfig(dir));
        Assert.Contains(expected, error.Message);
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void UnsupportedStorageDtypeIsNamed()
    {
        string path = Path.Combine(TestModels.TempDir(), "x.safetensors");
        byte[] header = System.Text.Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}");
        using (var stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes((long)header.Length));
            stream.Write(header);
            stream.Write(new byte[16]);
        }
        var error = Assert.Throws<InvalidDataException>(() => Safetensors.Open(path));
        Assert.Contains("tensor 'w' has dtype I64", error.Message);
    }

    [Fact]
    public void ATiedConfigIgnoresAStoredLmHeadAndGenerationConfigEosWins()
    {
        using var model = TestModels.Create(TestModels.Tiny("llama", tied: false));
        string dir = TestModels.TempDir();
        HfCheckpoint.Save(model, dir);
        string configPath = Path.Combine(dir, HfCheckpoint.ConfigFile);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["tie_word_embeddings"] = true;
        File.WriteAllText(configPath, config.ToJsonString());
        File.WriteAllText(Path.Combine(dir, HfCheckpoint.GenerationConfigFile), "{\"eos_token_id\": [2, 5]}");

        using var tied = HfCheckpoint.LoadCausalLM(dir);
        Assert.DoesNotContain("lm_head.weight", tied.state_dict().Keys);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Tensor ids = TestModels.Ids(4, 5, 6);
            Tensor expected = nn.functional.linear(model.HiddenStates(ids, null), model.Backbone.EmbedTokens);
            Assert.True(TestModels.MaxDiff(expected, tied.forward(ids, null)) < 1e-6);
        }
        Assert.Equal([2, 5], HfCheckpoint.LoadEosTokenIds(dir));
        Assert.Equal([2], tied.Config.EosTokenIds);
    }

    [Fact]
    public void ConfigRoundTripKeepsUnknownFieldsAndEosLists()
    {
        string dir = TestModels.TempDir();
        var json = TestModels.Tiny("llama", ropeScaling: TestModels.Llama3Scaling).ToJson();
        json["eos_token_id"] = new JsonArray(2, 3);
        json["some_future_field"] = "kept";
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, json.ToJsonString());
        var config = ModelConfig.Load(path);
        Assert.Equal([2, 3], config.EosTokenIds);
        Assert.Equal(TestModels.Llama3Scaling, config.RopeScaling);
        config.Save(path);
        var saved = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal("kept", saved["some_future_field"]!.GetValue<string>());
        Assert.Equal("llama3", saved["rope_scaling"]!["rope_type"]!.GetValue<string>());
        Assert.Equal(2, saved["eos_token_id"]!.AsArray().Count);
    }
}
