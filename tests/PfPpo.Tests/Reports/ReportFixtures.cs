using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.IO;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using static TorchSharp.torch;

namespace PfPpo.Tests.Reports;

/// <summary>
/// Run folders for the report tests, built from code: a comparison folder in compare.json's contract (pfppo compare) and a
/// demo folder shaped like pfppo demo's, each with an R² analysis written by the real r2 code (<see cref="R2Run"/> on a
/// synthetic samples file) and metrics.jsonl in <see cref="Training.MetricsLogger"/>'s layout.
/// </summary>
public static class ReportFixtures
{
    public static readonly string[] Methods = ["sft", "ppo-m", "pf-bon", "pf-br", "pf-bw"];
    public static readonly int[] Seeds = [1, 2, 3];

    /// <summary>The command line recorded in compare.json; it holds markup, which the report must escape.</summary>
    public const string Command = "pfppo compare --preset quick --note <b>&\"x\"";

    /// <summary>pass@1 mean of each method (the CI is mean ± 0.005, the delta vs PPO-M mean - 0.46).</summary>
    public static double PassAt1(string method) => method switch
    {
        "sft" => 0.475,
        "ppo-m" => 0.460,
        "pf-bon" => 0.430,
        "pf-br" => 0.490,
        _ => 0.485,
    };

    public static async Task Comparison(string dir)
    {
        await R2Analysis(Path.Combine(dir, "shared", "r2"));
        JsonNode r2 = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "shared", "r2", R2Run.JsonFile)))!["strategies"]!;
        var methods = new JsonObject();
        foreach (string method in Methods)
        {
            double mean = PassAt1(method);
            string? filter = method.StartsWith("pf-", StringComparison.Ordinal) ? method[3..] : null;
            methods[method] = new JsonObject
            {
                ["kind"] = method == "sft" ? "sft" : "ppo",
                ["filter"] = filter,
                ["pass_at_1"] = Stat(mean),
                ["best_val_pass_at_1"] = method == "sft" ? null : Stat(mean + 0.01),
                ["by_difficulty"] = new JsonObject { ["1"] = Stat(0.8), ["2"] = Stat(0.45), ["3"] = Stat(0.125) },
                ["extra"] = new JsonObject { ["humaneval.jsonl"] = Stat(0.05) },
                ["vs_ppo_m"] = method == "ppo-m" ? null : Stat(Math.Round(mean - 0.46, 3)),
                ["vs_sft"] = method == "sft" ? null : Stat(Math.Round(mean - 0.475, 3)),
                ["r2"] = method == "sft" ? null : Math.Round(r2[filter ?? "none"]!["binned"]!["r2"]!.GetValue<double>(), 3),
                ["seconds"] = 123.4,
                ["samples_trained"] = method == "sft" ? 4000 : 1600.4, // a mean over seeds (DPO pair counts differ by seed)
            };
            foreach (int seed in Seeds)
            {
                string run = Path.Combine(dir, "runs", method, $"seed-{seed}");
                Json(Path.Combine(run, "summary.json"), new JsonObject { ["eval_pass_at_1"] = mean, ["best_eval_pass_at_1"] = mean + 0.01 });
                Metrics(Path.Combine(run, "train", "metrics.jsonl"), method == "sft" ? "step" : "iteration", seed, rl: method != "sft");
            }
        }
        Json(Path.Combine(dir, "compare.json"), new JsonObject
        {
            ["created"] = "2026-12-03T14:00:00Z", ["command"] = Command, ["preset"] = "quick",
            ["seeds"] = new JsonArray(Seeds.Select(s => (JsonNode?)s).ToArray()),
            ["machine"] = "Debian 12, 2 cores", ["test_problems"] = 200, ["validation_problems"] = 200,
            ["shared"] = new JsonObject { ["sft_dir"] = "shared/sft", ["rm_dir"] = "shared/rm", ["rm_accuracy"] = 0.61, ["r2_json"] = "shared/r2/r2.json" },
            ["methods"] = methods,
            ["r2_rank_correlation"] = new JsonObject
            {
                ["spearman"] = 0.4, ["ci_low"] = -0.2, ["ci_high"] = 0.9, ["strategies"] = new JsonArray("ppo-m", "pf-bon", "pf-br", "pf-bw"),
            },
        });
    }

    public static async Task Demo(string dir)
    {
        await R2Analysis(Path.Combine(dir, "r2"));
        string[] stages = ["tasks", "tokenizer", "init", "sft", "eval", "rm-data", "rm", "r2", "ppo-m", "pf-ppo"];
        Json(Path.Combine(dir, "summary.json"), new JsonObject
        {
            ["pass_at_1"] = 0.475, ["pass_at_4"] = 0.51, ["sampled_pass_at_1"] = 0.35875, ["samples"] = 4, ["sample_temperature"] = 1.0,
            ["mixed_fraction"] = 0.385,
            ["stage_seconds"] = new JsonObject(stages.Select((s, i) => KeyValuePair.Create(s, (JsonNode?)(10.5 + i)))),
            ["stages_reused"] = new JsonArray("tasks"),
            ["total_seconds"] = 244.5, ["wall_seconds"] = 250.0, ["rm_accuracy"] = 0.611, ["rm_held_out_pairs"] = 180, ["rm_trained"] = true,
            ["r2"] = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "r2", R2Run.JsonFile)))!["strategies"]!.DeepClone(),
            ["ppo_m_pass_at_1"] = 0.465, ["pf_ppo_pass_at_1"] = 0.47, ["pf_ppo_filter"] = "bon", ["parameters"] = 870_000, ["isolation"] = "Unshare",
            ["settings"] = new JsonObject { ["Seed"] = 1234, ["TestTasks"] = 200 },
            ["stages"] = new JsonObject
            {
                ["tasks"] = new JsonObject { ["train"] = 4000, ["test"] = 200, ["held_out_pairs"] = 15 },
                ["ppo-m"] = RlStage(0.465, "none"),
                ["pf-ppo"] = RlStage(0.47, "bon"),
            },
        });
        Metrics(Path.Combine(dir, "ppo-m", "metrics.jsonl"), "iteration", 1, rl: true);
        Metrics(Path.Combine(dir, "pf-ppo", "metrics.jsonl"), "iteration", 2, rl: true);
    }

    private static JsonObject RlStage(double passAt1, string filter) => new()
    {
        ["pass_at1"] = passAt1, ["filter"] = filter, ["reward"] = "rm", ["iterations"] = 4, ["samples_trained"] = 320,
        ["first_reward_mean"] = 0.1, ["last_reward_mean"] = 0.3, ["seconds"] = 33.2,
    };

    private static JsonObject Stat(double mean) => new()
    {
        ["mean"] = mean, ["ci_low"] = Math.Round(mean - 0.005, 3), ["ci_high"] = Math.Round(mean + 0.005, 3),
        ["per_seed"] = new JsonArray(mean, mean, mean),
    };

    /// <summary>
    /// samples.jsonl (40 prompts x 5 responses, rewards that track the scores with noise) and r2.json written by the real
    /// r2 code from that file.
    /// </summary>
    private static async Task R2Analysis(string dir)
    {
        var random = new Random(7);
        var samples = new List<ScoredSample>();
        for (int group = 0; group < 40; group++)
        {
            for (int sample = 0; sample < 5; sample++)
            {
                double score = random.Next(5) / 4.0;
                samples.Add(new ScoredSample($"task/{group}", group, sample, "return 1", [1, 2, 3], score, score == 1, score == 1 ? "passed" : "failed",
                    Reward: 2 * score + random.NextDouble(), Logprob: -1.5));
            }
        }
        Directory.CreateDirectory(dir);
        string input = Path.Combine(dir, "input.jsonl");
        ScoredSamples.Write(input, samples);
        await R2Run.RunAsync(new R2Inputs(null, null, null, input), dir, new R2RunOptions { Bootstrap = 50, Seed = 3, Plots = false }, CPU, ScalarType.Float32);
        File.Delete(input);
    }

    /// <summary>metrics.jsonl as MetricsLogger writes it: RL records keyed by iteration, with nested groups and a logged NaN.</summary>
    private static void Metrics(string path, string stepKey, int seed, bool rl)
    {
        var lines = new List<string>();
        for (int step = 1; step <= 4; step++)
        {
            var record = new JsonObject { [stepKey] = step };
            if (rl)
            {
                record["reward_mean"] = 0.1 * step + 0.01 * seed;
                record["rollout_pass_rate"] = 0.3 + 0.02 * step;
                record["kl"] = 0.001 * step * step;
                record["policy_loss"] = -0.01;
                record["explained_variance"] = "NaN";
                record["seconds"] = new JsonObject { ["generate"] = 1.2, ["total"] = 3.4 };
            }
            else
            {
                record["loss"] = 2.0 / step;
            }
            lines.Add(record.ToJsonString());
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
    }

    private static void Json(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
