using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Rewards;
using PfPpo.Tasks;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Tests.Ppo;

/// <summary>A tiny policy, a reward model with a random head (its rewards vary with the response) and generated tasks.</summary>
public sealed class PpoFixture : IDisposable
{
    private readonly TempDirectory temp = new("pfppo-ppo-");

    public PpoFixture()
    {
        TaskSplits splits = TaskGenerator.Generate(seed: 5, trainCount: 40, testCount: 6);
        TaskJsonl.Write(Train, splits.Train);
        TaskJsonl.Write(Test, splits.Test);
        TaskJsonl.Write(FewTrain, splits.Train.Take(8));
        string tokenizerPath = temp["tokenizer.json"];
        BpeTrainer.Train(splits.Train.Select(t => t.Prompt + t.CanonicalSolution), new BpeTrainerOptions { VocabSize = 300 }, tokenizerPath);
        ModelInitializer.Create(new ModelShape("qwen2", Hidden: 32, Layers: 1, Heads: 2, KvHeads: 1, Intermediate: 64, Tied: true),
            tokenizerPath, Policy, seed: 3);
        using ScalarHeadModel rm = HfCheckpoint.LoadScalarHead(Policy, CPU, ScalarType.Float32, seed: 9);
        rm.InitializeScore(9, std: 1.0);
        HfCheckpoint.Save(rm, RewardModelDir);
        File.Copy(tokenizerPath, Path.Combine(RewardModelDir, HfCheckpoint.TokenizerFile));
        RewardModel.WriteStatistics(RewardModelDir, mean: 0, std: 1);
    }

    public string Root => temp.Path;

    public string Train => temp["train.jsonl"];

    public string Test => temp["test.jsonl"];

    /// <summary>8 training tasks: a run with 8 prompts per iteration sees the same prompts every iteration.</summary>
    public string FewTrain => temp["train8.jsonl"];

    public string Policy => temp["policy"];

    public string RewardModelDir => temp["rm"];

    public string Run(string name) => temp[name];

    public void Dispose() => temp.Dispose();
}
