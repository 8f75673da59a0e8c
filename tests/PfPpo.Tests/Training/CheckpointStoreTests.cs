using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Tests.Model;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Tests.Training;

public class CheckpointStoreTests
{
    /// <summary>The state a PPO trainer would keep beside its models: here a KL controller's coefficient.</summary>
    private sealed record ControllerState(double KlCoefficient, int Iteration);

    private static readonly WarmupCosineSchedule Schedule = new(1e-2, 1, 10);

    private static void Train(TrainableModel trainable, int step)
    {
        using var scope = NewDisposeScope();
        TokenBatch batch = TokenBatch.Collate([new TokenSequence([3, 4, 5], [6, 7, 2])], 0, Padding.Right);
        trainable.ZeroGrad();
        Tensor loss = trainable.Module is CausalLM lm
            ? -TokenLogprobs.Compute(lm, batch).sum()
            : ((ScalarHeadModel)trainable.Module).forward(batch.InputIds, null).pow(2).sum();
        trainable.ScaleLoss(loss).backward();
        trainable.Step(step);
    }

    private static (TrainableModel Policy, TrainableModel Critic) Models(int seed)
    {
        CausalLM policy = TestModels.Create(TestModels.Tiny(), seed);
        var critic = new ScalarHeadModel(TestModels.Tiny() with { Architectures = ["Qwen2ForSequenceClassification"] });
        critic.InitializeWeights(seed + 1, std: 0.3);
        return (new TrainableModel("policy", policy, new OptimizerSettings(), Schedule),
                new TrainableModel("critic", critic, new OptimizerSettings { LearningRate = 5e-3 }, Schedule));
    }

    private static RunFingerprint Fingerprint(double lr) => RunFingerprint.Of(new { LearningRate = lr, Epochs = 3 }, new Dictionary<string, string>());

    [Fact]
    public void TwoModulesTwoOptimizersAndTheTrainerStateRoundTripExactly()
    {
        using var temp = new TempDirectory();
        (TrainableModel policy, TrainableModel critic) = Models(1);
        var store = new CheckpointStore(temp.Path, keep: 2, ResumeMode.Fresh);
        Assert.Null(store.Open<ControllerState>(Fingerprint(1e-2), [policy, critic]));
        for (int step = 0; step < 3; step++)
        {
            Train(policy, step);
            Train(critic, step);
        }
        store.Save(3, new ControllerState(0.05, 3), Fingerprint(1e-2), [policy, critic]);
        // One more step after the save: a restored pair must repeat it exactly.
        Train(policy, 3);
        Train(critic, 3);

        (TrainableModel policy2, TrainableModel critic2) = Models(7); // other weights, fresh optimizers
        var resumed = new CheckpointStore(temp.Path, keep: 2, ResumeMode.Resume).Open<ControllerState>(Fingerprint(1e-2), [policy2, critic2]);
        Assert.NotNull(resumed);
        Assert.Equal(3, resumed.Step);
        Assert.Equal(new ControllerState(0.05, 3), resumed.State);
        Train(policy2, 3);
        Train(critic2, 3);
        foreach ((TrainableModel a, TrainableModel b) in new[] { (policy, policy2), (critic, critic2) })
        {
            var bWeights = b.Module.state_dict();
            foreach ((string name, Tensor value) in a.Module.state_dict())
            {
                Assert.True(TestModels.MaxDiff(value, bWeights[name]) == 0, $"{a.Name}.{name} differs after resume");
            }
        }
        // Each module's folder in the checkpoint is a loadable Hugging Face checkpoint.
        using CausalLM loaded = HfCheckpoint.LoadCausalLM(Path.Combine(resumed.Directory, "policy"));
        using ScalarHeadModel loadedCritic = HfCheckpoint.LoadScalarHead(Path.Combine(resumed.Directory, "critic"));
    }

    [Fact]
    public void KeepsTheNewestAndRefusesAMismatchedResumeNamingWhatDiffers()
    {
        using var temp = new TempDirectory();
        (TrainableModel policy, TrainableModel critic) = Models(1);
        var store = new CheckpointStore(temp.Path, keep: 2, ResumeMode.Fresh);
        foreach (int step in new[] { 1, 2, 3 })
        {
            store.Save(step, new ControllerState(0.1, step), Fingerprint(1e-2), [policy, critic]);
        }
        Assert.Equal(new[] { 2, 3 }, store.Checkpoints().Select(c => c.Step));

        var e = Assert.Throws<RunFolderException>(() =>
            new CheckpointStore(temp.Path, 2, ResumeMode.Resume).Open<ControllerState>(Fingerprint(3e-4), [policy, critic]));
        Assert.Contains("setting LearningRate: 0.01 → 0.0003", e.Message);
        Assert.DoesNotContain("Epochs", e.Message);

        e = Assert.Throws<RunFolderException>(() =>
            new CheckpointStore(temp.Path, 2, ResumeMode.Fresh).Open<ControllerState>(Fingerprint(1e-2), [policy, critic]));
        Assert.Contains("--force", e.Message);
    }

    [Fact]
    public void ADamagedNewestCheckpointFallsBackToTheIntactOneAndSaysSo()
    {
        using var temp = new TempDirectory();
        (TrainableModel policy, TrainableModel critic) = Models(1);
        var store = new CheckpointStore(temp.Path, keep: 2, ResumeMode.Fresh);
        store.Save(1, new ControllerState(0.1, 1), Fingerprint(1e-2), [policy, critic]);
        string newest = store.Save(2, new ControllerState(0.2, 2), Fingerprint(1e-2), [policy, critic]);
        string weights = Path.Combine(newest, "policy", HfCheckpoint.WeightsFile);
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);           // truncated, as by a full disk
        Directory.CreateDirectory(Path.Combine(store.Root, ".step-3.tmp"));         // a save killed half-way

        var warnings = new List<string>();
        var resumed = new CheckpointStore(temp.Path, 2, ResumeMode.Resume).Open<ControllerState>(Fingerprint(1e-2), [policy, critic], warnings.Add);
        Assert.Equal(1, resumed!.Step);
        Assert.Contains(warnings, w => w.Contains("step 2") && w.Contains(weights));
        Assert.Contains(warnings, w => w.Contains("resumed from step 1"));
        Assert.False(Directory.Exists(Path.Combine(store.Root, ".step-3.tmp")));
    }
}
