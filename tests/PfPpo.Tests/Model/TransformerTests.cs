using PfPpo.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PfPpo.Tests.Model;

public class TransformerTests
{
    [Fact]
    public void StateDictKeysAreTheHuggingFaceNames()
    {
        using var untied = new CausalLM(TestModels.Tiny("llama") with { AttentionBias = true, MlpBias = true });
        var keys = untied.state_dict().Keys.ToHashSet();
        Assert.Contains("model.embed_tokens.weight", keys);
        Assert.Contains("model.layers.1.self_attn.q_proj.bias", keys);
        Assert.Contains("model.layers.1.self_attn.o_proj.bias", keys);
        Assert.Contains("model.layers.0.mlp.gate_proj.bias", keys);
        Assert.Contains("model.layers.0.input_layernorm.weight", keys);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", keys);
        Assert.Contains("model.norm.weight", keys);
        Assert.Contains("lm_head.weight", keys);

        using var qwen = new CausalLM(TestModels.Tiny("qwen2", tied: true));
        var qwenKeys = qwen.state_dict().Keys.ToHashSet();
        Assert.Contains("model.layers.0.self_attn.k_proj.bias", qwenKeys);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", qwenKeys);
        Assert.DoesNotContain("model.layers.0.mlp.up_proj.bias", qwenKeys);
        Assert.DoesNotContain("lm_head.weight", qwenKeys);
        Assert.Equal(2 + 2 * 12, qwenKeys.Count); // embed, norm; per layer 2 norms, q/k/v weight+bias, o, gate, up, down
    }

    [Fact]
    public void KvCacheDecodingGivesTheSameLogitsAsFullRecomputation()
    {
        using var model = TestModels.Create(TestModels.Tiny("llama", ropeScaling: TestModels.Llama3Scaling));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Two rows, the second left-padded by two positions.
        Tensor ids = tensor(new long[] { 5, 9, 13, 17, 21, 25, 29, 0, 0, 7, 11, 15, 19, 23 }, [2, 7]);
        Tensor mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1 }, [2, 7]);
        Tensor full = model.forward(ids, mask);                                   // [2, 7, V]

        using var cache = new KvCache(model.Config, 2, 16, CPU, ScalarType.Float32);
        var pieces = new List<Tensor> { model.forward(ids[.., ..4], mask[.., ..4], cache) };
        for (int t = 4; t < 7; t++)
        {
            pieces.Add(model.forward(ids[.., t..(t + 1)], mask[.., ..(t + 1)], cache));
        }
        Tensor incremental = cat(pieces, 1);
        Assert.Equal(7, cache.Length);
        // Compare real positions only (padding positions are unused).
        Tensor real = mask.to(ScalarType.Bool).unsqueeze(-1);
        double diff = TestModels.MaxDiff(full.masked_fill(real.logical_not(), 0), incremental.masked_fill(real.logical_not(), 0));
        Assert.True(diff < 1e-5, $"max diff {diff}");
    }

    [Fact]
    public void LeftPaddedBatchGivesEachRowTheResultOfItsPromptAlone()
    {
        using var model = TestModels.Create(TestModels.Tiny("qwen2"));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long[][] prompts = [[3, 4, 5, 6, 7, 8], [9, 10], [11, 12, 13, 14]];
        int length = prompts.Max(p => p.Length);
        long[] ids = new long[prompts.Length * length];
        long[] mask = new long[prompts.Length * length];
        for (int b = 0; b < prompts.Length; b++)
        {
            for (int t = 0; t < prompts[b].Length; t++)
            {
                ids[b * length + length - prompts[b].Length + t] = prompts[b][t];
                mask[b * length + length - prompts[b].Length + t] = 1;
            }
        }
        Tensor batch = model.forward(tensor(ids, [prompts.Length, length]), tensor(mask, [prompts.Length, length]));
        for (int b = 0; b < prompts.Length; b++)
        {
            Tensor alone = model.forward(TestModels.Ids(prompts[b]), null);        // [1, T_b, V]
            Tensor row = batch[b, (length - prompts[b].Length).., ..].unsqueeze(0);
            double diff = TestModels.MaxDiff(alone, row);
            Assert.True(diff < 1e-5, $"row {b}: max diff {diff}");
        }
        Assert.False(batch.isnan().any().item<bool>());
    }

    [Fact]
    public void TiedWeightsStayOneParameterAfterAnOptimizerStep()
    {
        using var model = TestModels.Create(TestModels.Tiny("qwen2", tied: true));
        model.train();
        var parameters = model.parameters().ToList();
        long embedElements = 64 * 32;
        Assert.Single(parameters, p => p.numel() == embedElements);

        using var optimizer = optim.AdamW(model.parameters(), lr: 0.05);
        using (var scope = NewDisposeScope())
        {
            Tensor logits = model.forward(TestModels.Ids(3, 4, 5, 6), null);
            Tensor loss = nn.functional.cross_entropy(logits[0, ..^1], tensor(new long[] { 4, 5, 6 }));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        model.eval();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Tensor ids = TestModels.Ids(7, 8, 9);
            Tensor hidden = model.HiddenStates(ids, null);
            Tensor embed = model.Backbone.EmbedTokens;
            // The output projection is still exactly the (updated) embedding matrix.
            Assert.Equal(0.0, TestModels.MaxDiff(model.forward(ids, null), nn.functional.linear(hidden, embed)));
            Assert.Single(model.parameters(), p => p.numel() == embedElements);
        }
    }

    [Fact]
    public void ComputeDtypeIsSelectable()
    {
        using var model = TestModels.Create(TestModels.Tiny("llama"));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor ids = TestModels.Ids(3, 4, 5, 6, 7);
        Tensor reference = model.forward(ids, null);
        model.to(ScalarType.BFloat16);
        Tensor low = model.forward(ids, null);
        Assert.Equal(ScalarType.BFloat16, low.dtype);
        double diff = TestModels.MaxDiff(reference, low);
        double scale = reference.abs().max().item<float>();
        Assert.True(diff < 0.1 * scale, $"bf16 differs from fp32 by {diff} (logit scale {scale})");
    }

    [Fact]
    public void ScalarHeadGivesOneScorePerPosition()
    {
        var config = TestModels.Tiny("llama");
        using var model = new ScalarHeadModel(config);
        model.InitializeWeights(3, std: 0.3);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor scores = model.forward(tensor(new long[] { 0, 4, 5, 6 }, [1, 4]), tensor(new long[] { 0, 1, 1, 1 }, [1, 4]));
        Assert.Equal(new long[] { 1, 4 }, scores.shape);
        Tensor alone = model.forward(TestModels.Ids(4, 5, 6), null);
        Assert.True(TestModels.MaxDiff(scores[.., 1..], alone) < 1e-5);
        Assert.Equal(["model", "score"], model.named_children().Select(c => c.name).ToArray());
    }
}
