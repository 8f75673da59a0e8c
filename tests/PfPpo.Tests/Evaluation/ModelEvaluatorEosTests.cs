using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Tests.Benchmarks;
using PfPpo.Tests.Cli;
using PfPpo.Tests.Generation;
using PfPpo.Tests.Model;
using PfPpo.Tests.Tokenization;
using PfPpo.Tokenization;

namespace PfPpo.Tests.Evaluation;

public class ModelEvaluatorEosTests
{
    /// <summary>
    /// A checkpoint whose greedy continuation of "a" is b, c, d, e, ...; config.json says eos is "z" and
    /// generation_config.json says "d", so a command that reads generation_config stops after "bc".
    /// </summary>
    private static string ChainCheckpoint()
    {
        TokenizerFixture fixture = TokenizerFixture.Qwen2();
        HfTokenizer tokenizer = fixture.Load();
        int Id(char c) => tokenizer.TokenToId(c.ToString())!.Value;
        string dir = Path.Combine(TestModels.TempDir(), "chain");
        using (CausalLM model = ChainModels.Create(tokenizer, ChainModels.Alphabet(tokenizer), 320, eosTokenIds: [Id('z')]))
        {
            HfCheckpoint.Save(model, dir);
        }
        File.WriteAllText(Path.Combine(dir, HfCheckpoint.TokenizerFile), fixture.Json());
        File.WriteAllText(Path.Combine(dir, HfCheckpoint.GenerationConfigFile), new JsonObject { ["eos_token_id"] = new JsonArray(Id('d'), 7) }.ToJsonString());
        return dir;
    }

    [Fact]
    public void GenerateAndEvalStopOnTheEosIdsOfGenerationConfig()
    {
        string dir = ChainCheckpoint();
        var generate = CliRunner.Run("generate", "--model", dir, "--prompt", "def f():\n    return 'a", "--temperature", "0",
            "--max-new-tokens", "6", "--json", "--threads", "1");
        Assert.True(generate.ExitCode == 0, generate.StdErr);
        JsonNode generated = JsonNode.Parse(generate.StdOut)!;
        Assert.Equal("bc", generated["completions"]![0]!.GetValue<string>());
        Assert.Equal("eos", generated["finish_reasons"]![0]!.GetValue<string>());

        using var problems = new TestData.TempFile(new JsonObject
        {
            ["task_id"] = "chain/0", ["prompt"] = "def f():\n    return 'a", ["canonical_solution"] = "bc'\n", ["entry_point"] = "f",
            ["test"] = "def check(candidate):\n    assert candidate() == 'abc'\n",
        }.ToJsonString());
        string results = Path.Combine(dir, "results.jsonl");
        var eval = CliRunner.Run("eval", "--model", dir, "--problems", problems.Path, "--max-new-tokens", "6", "--out", results, "--json",
            "--threads", "1", "--workers", "1");
        Assert.True(eval.ExitCode == 0, eval.StdErr);
        JsonNode sample = JsonNode.Parse(File.ReadLines(results).Single())!;
        Assert.Equal("bc", sample["completion"]!.GetValue<string>());
        Assert.Equal("eos", sample["finish_reason"]!.GetValue<string>());
    }
}
