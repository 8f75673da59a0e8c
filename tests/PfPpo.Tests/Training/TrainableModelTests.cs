using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Tests.Model;
using PfPpo.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PfPpo.Tests.Training;

public class TrainableModelTests
{
    private static readonly WarmupCosineSchedule Constant1e6 = new(1e-6, WarmupSteps: 0, TotalSteps: 10, MinRatio: 1.0);

    private static void OneStep(CausalLM model, TrainableModel trainable, int step)
    {
        using var scope = NewDisposeScope();
        TokenBatch batch = TokenBatch.Collate([new TokenSequence([3, 4, 5], [6, 7, 2])], 0, Padding.Right);
        trainable.ZeroGrad();
        Tensor loss = -TokenLogprobs.Compute(model, batch).sum();
        trainable.ScaleLoss(loss).backward();
        trainable.Step(step);
    }

    [Fact]
    public void ATinyLearningRateStepChangesTheWeightsInBf16Compute()
    {
        using var temp = new TempDirectory();
        using CausalLM reference = TestModels.Create(TestModels.Tiny());
        HfCheckpoint.Save(reference, temp["init"]);

        // With fp32 masters: the saved (fp32) weights move by about the learning rate.
        using CausalLM model = HfCheckpoint.LoadCausalLM(temp["init"], CPU, ScalarType.BFloat16);
        using (var trainable = new TrainableModel("model", model, new OptimizerSettings { WeightDecay = 0 }, Constant1e6, initialWeights: temp["init"]))
        {
            Assert.Equal(ScalarType.BFloat16, trainable.ComputeDType);
            OneStep(model, trainable, 0);
            trainable.SaveModel(temp["after"]);
        }
        using CausalLM after = HfCheckpoint.LoadCausalLM(temp["after"]);
        var initial = reference.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        double moved = after.named_parameters().Max(p => TestModels.MaxDiff(p.parameter, initial[p.name]));
        Assert.InRange(moved, 5e-7, 1e-5); // Adam's first step moves each weight by about lr
        Assert.True(ChangedFraction(after, initial) > 0.8, // all but the embedding rows of unseen tokens (zero gradient)
            $"only {ChangedFraction(after, initial):P1} of the weights moved");

        // Without masters (AdamW straight on bf16 parameters) the same step vanishes below bf16 resolution.
        using CausalLM naive = HfCheckpoint.LoadCausalLM(temp["init"], CPU, ScalarType.BFloat16);
        var before = naive.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach().clone());
        using var adam = optim.AdamW(naive.parameters(), 1e-6, weight_decay: 0);
        using (var scope = NewDisposeScope())
        {
            TokenBatch batch = TokenBatch.Collate([new TokenSequence([3, 4, 5], [6, 7, 2])], 0, Padding.Right);
            (-TokenLogprobs.Compute(naive, batch).sum()).backward();
            adam.step();
        }
        // Only weights near zero (where bf16 is fine-grained) move at all.
        Assert.True(ChangedFraction(naive, before) < 0.1, $"{ChangedFraction(naive, before):P1} of the bf16 weights moved");
    }

    private static double ChangedFraction(CausalLM model, IReadOnlyDictionary<string, Tensor> before)
    {
        long changed = 0, total = 0;
        foreach ((string name, Parameter p) in model.named_parameters())
        {
            changed += p.to(ScalarType.Float32).ne(before[name].to(ScalarType.Float32)).sum().item<long>();
            total += p.numel();
        }
        return (double)changed / total;
    }

    [Fact]
    public void WeightDecayTouchesMatricesOnlyAndTiedWeightsAreOneParameter()
    {
        using CausalLM model = TestModels.Create(TestModels.Tiny(tied: true));
        var settings = new OptimizerSettings { WeightDecay = 0.5, LearningRate = 0.1 };
        using var trainable = new TrainableModel("model", model, settings, new WarmupCosineSchedule(0.1, 0, 1, 1.0));
        Assert.Equal(model.parameters().Count(), trainable.Parameters.Count);
        Assert.Single(trainable.Parameters, p => ReferenceEquals(p, model.OutputWeight));

        // Zero gradients: AdamW's update is pure decay, so matrices shrink and vectors (norms) stay put.
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        trainable.ZeroGrad();
        foreach (Parameter p in trainable.Parameters)
        {
            p.grad = zeros_like(p);
        }
        trainable.Step(0);
        foreach ((string name, Parameter p) in model.named_parameters())
        {
            double change = TestModels.MaxDiff(p, before[name]);
            if (p.dim() >= 2)
            {
                Assert.True(change > 0, $"{name} did not decay");
            }
            else
            {
                Assert.True(change == 0, $"{name} decayed");
            }
        }
    }

    [Fact]
    public void ANonFiniteGradientIsRefusedBeforeAnyWeightChanges()
    {
        using CausalLM model = TestModels.Create(TestModels.Tiny());
        using var trainable = new TrainableModel("policy", model, new OptimizerSettings(), Constant1e6);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        trainable.ZeroGrad();
        foreach (Parameter p in trainable.Parameters)
        {
            p.grad = full_like(p, double.NaN);
        }
        var e = Assert.Throws<NonFiniteTrainingException>(() => trainable.Step(3));
        Assert.Contains("policy", e.Message);
        Assert.Contains("step 4", e.Message);
        Assert.All(model.named_parameters(), p => Assert.Equal(0.0, TestModels.MaxDiff(p.parameter, before[p.name])));
    }

    [Fact]
    public void UpToTheAllowedNumberOfBadStepsAreSkippedAndCountedThenTheRunStops()
    {
        using CausalLM model = TestModels.Create(TestModels.Tiny());
        using var trainable = new TrainableModel("policy", model, new OptimizerSettings { MaxNonFiniteSkips = 1 }, Constant1e6);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        void BadGradients()
        {
            trainable.ZeroGrad();
            foreach (Parameter p in trainable.Parameters)
            {
                p.grad = full_like(p, double.PositiveInfinity);
            }
        }
        BadGradients();
        StepStats skipped = trainable.Step(0);
        Assert.True(skipped.Skipped);
        Assert.Equal(1, trainable.NonFiniteSkips);
        Assert.All(model.named_parameters(), p => Assert.Equal(0.0, TestModels.MaxDiff(p.parameter, before[p.name])));
        OneStep(model, trainable, 1); // a good batch trains as usual
        BadGradients();
        var e = Assert.Throws<NonFiniteTrainingException>(() => trainable.Step(2));
        Assert.Contains("1 earlier step(s) were skipped", e.Message);
    }

    [Fact]
    public void SettingsThatCannotTrainAreRefused()
    {
        using CausalLM model = TestModels.Create(TestModels.Tiny());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainableModel("m", model, new OptimizerSettings { GradClip = 0 }, Constant1e6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainableModel("m", model, new OptimizerSettings { GradClip = -1 }, Constant1e6));
    }
}

public class ParameterCreationTests
{
    [Fact]
    public void ModelsAreBuiltInTheTargetDtypeAndCheckpointsFillThemDirectly()
    {
        using var temp = new TempDirectory();
        using (var built = new CausalLM(TestModels.Tiny(tied: true), CPU, ScalarType.BFloat16))
        {
            Assert.All(built.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        }
        using CausalLM reference = TestModels.Create(TestModels.Tiny());
        HfCheckpoint.Save(reference, temp.Path);
        using CausalLM loaded = HfCheckpoint.LoadCausalLM(temp.Path, CPU, ScalarType.BFloat16);
        var expected = reference.state_dict();
        foreach ((string name, Tensor value) in loaded.state_dict())
        {
            Assert.Equal(ScalarType.BFloat16, value.dtype);
            Assert.Equal(0.0, TestModels.MaxDiff(value, expected[name].to(ScalarType.BFloat16)));
        }
    }
}
