using PfPpo.Model;
using PfPpo.Tests.Model;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Tests.Generation;

/// <summary>Models whose greedy output is known in advance, for generation, rollout and CLI tests.</summary>
internal static class ChainModels
{
    /// <summary>
    /// A model whose next token depends only on the current one: with all layer weights zero the residual stream is the
    /// embedding, so lm_head can map each link's token to its successor with near certainty. With
    /// <paramref name="favouredId"/>, that id gets an even higher logit after every linked token. The tokenizer only names the
    /// ids; <paramref name="eosTokenIds"/> become the config's eos_token_id.
    /// </summary>
    public static CausalLM Create(HfTokenizer tokenizer, IReadOnlyList<(int From, int To)> links, int vocabSize, int? favouredId = null,
        IReadOnlyList<int>? eosTokenIds = null)
    {
        Assert.True(links.Count <= 32, "one hidden dimension per link");
        var model = new CausalLM(TestModels.Tiny("qwen2") with { VocabSize = vocabSize, EosTokenIds = eosTokenIds ?? [] });
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach ((string name, var parameter) in model.named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                parameter.fill_(1.0);
            }
            else
            {
                parameter.zero_();
            }
        }
        var state = model.state_dict();
        Tensor embed = state["model.embed_tokens.weight"], head = state["lm_head.weight"];
        for (int i = 0; i < links.Count; i++)
        {
            embed[links[i].From, i] = tensor(1.0f);
            head[links[i].To, i] = tensor(10.0f);
            if (favouredId is int favoured)
            {
                head[favoured, i] = tensor(20.0f);
            }
        }
        model.eval();
        return model;
    }

    /// <summary>The links a -> b -> ... -> z -> a over the single-letter tokens of <paramref name="tokenizer"/>.</summary>
    public static (int From, int To)[] Alphabet(HfTokenizer tokenizer)
    {
        int Id(char c) => tokenizer.TokenToId(c.ToString())!.Value;
        return Enumerable.Range(0, 26).Select(i => (Id((char)('a' + i)), Id((char)('a' + (i + 1) % 26)))).ToArray();
    }
}
