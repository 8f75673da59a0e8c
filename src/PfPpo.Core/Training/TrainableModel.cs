using System.Text.Json;
using System.Text.Json.Serialization;
using PfPpo.Checkpoints;
using PfPpo.IO;
using PfPpo.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PfPpo.Training;

/// <summary>AdamW and learning-rate settings of one trained module.</summary>
public sealed record OptimizerSettings
{
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Decoupled weight decay, applied to matrices (dim &gt;= 2) only: never to norms, biases or scalars.</summary>
    public double WeightDecay { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Largest gradient norm before clipping (must be positive; +Infinity turns clipping off).</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>
    /// Steps with a NaN or infinite gradient that may be skipped (and counted) before the run stops; 0, the default,
    /// stops at the first. For the rare bad batch; a diverging run still stops.
    /// </summary>
    public int MaxNonFiniteSkips { get; init; }
}

/// <summary>What one optimizer step did.</summary>
/// <param name="GradNorm">Total gradient norm before clipping.</param>
/// <param name="Skipped">True when the update was skipped for non-finite gradients: by fp16 loss scaling (the scale is
/// lowered) or as one of <see cref="OptimizerSettings.MaxNonFiniteSkips"/>.</param>
public readonly record struct StepStats(double LearningRate, double GradNorm, bool Skipped);

/// <summary>A loss or gradient that is NaN or infinite; training stops at that step and writes nothing.</summary>
public sealed class NonFiniteTrainingException(string message) : Exception(message);

/// <summary>
/// A module being trained: its parameters (tied ones counted once), AdamW with weight decay on matrices only, the
/// learning-rate schedule applied per step, gradient clipping, and mixed precision. When the module computes in bf16 or
/// fp16, AdamW updates fp32 master copies of the parameters and the module gets the rounded result after each step, so
/// updates far below the compute dtype's resolution accumulate instead of vanishing; fp16 adds dynamic loss scaling.
/// Checkpoints store the masters (fp32) and the optimizer state.
/// </summary>
public sealed class TrainableModel : IDisposable
{
    public const string OptimizerFile = "optimizer.bin";
    private const string ScalerFile = "loss_scale.json";
    private const int ScaleGrowthInterval = 1000;

    private readonly Parameter[] parameters;              // the module's own, in its compute dtype
    private readonly Parameter[] updated;                 // what AdamW updates: the module's (fp32) or fp32 masters
    private readonly Dictionary<string, Tensor>? masters; // state_dict name -> fp32 master (null when computing in fp32)
    private readonly AdamW optimizer;
    private readonly WarmupCosineSchedule schedule;
    private double lossScale;
    private int goodSteps;
    private int nonFiniteSkips;

    /// <param name="name">Names the module in checkpoints (its folder) and messages.</param>
    /// <param name="tokenizerPath">Copied beside every saved copy so each is a loadable checkpoint.</param>
    /// <param name="initialWeights">
    /// The Hugging Face checkpoint the module was loaded from: the fp32 masters are read from it at full precision (the
    /// module holds them rounded to its compute dtype). Null: the masters start from the module's values.
    /// </param>
    public TrainableModel(string name, nn.Module module, OptimizerSettings settings, WarmupCosineSchedule schedule, string? tokenizerPath = null,
        string? initialWeights = null)
    {
        if (!(settings.GradClip > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.GradClip, "The gradient clip must be positive (+Infinity turns clipping off).");
        }
        Name = name;
        Module = module;
        Settings = settings;
        TokenizerPath = tokenizerPath;
        this.schedule = schedule;
        parameters = module.parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToArray();
        ComputeDType = parameters[0].dtype;
        if (ComputeDType != ScalarType.Float32)
        {
            // Masters keyed by state_dict name, so that saving and loading use the Hugging Face names; a tied parameter
            // appears once in named_parameters, so it has one master.
            masters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var byParameter = new Dictionary<Parameter, Parameter>(ReferenceEqualityComparer.Instance);
            using (no_grad())
            {
                foreach ((string parameterName, Parameter parameter) in module.named_parameters())
                {
                    if (!byParameter.TryGetValue(parameter, out Parameter? master))
                    {
                        master = new Parameter(parameter.detach().to(ScalarType.Float32).clone(), requires_grad: true);
                        byParameter[parameter] = master;
                    }
                    masters[parameterName] = master;
                }
            }
            updated = parameters.Select(p => byParameter[p]).ToArray();
            if (initialWeights is not null)
            {
                HfCheckpoint.LoadInto(masters, $"{module.GetType().Name} (fp32 masters)", initialWeights);
            }
        }
        else
        {
            updated = parameters;
        }
        lossScale = ComputeDType == ScalarType.Float16 ? 65536.0 : 1.0;

        Parameter[] decay = updated.Where(p => p.dim() >= 2).ToArray();
        Parameter[] noDecay = updated.Where(p => p.dim() < 2).ToArray();
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Length > 0)
        {
            groups.Add(new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = settings.LearningRate, weight_decay = settings.WeightDecay }));
        }
        if (noDecay.Length > 0)
        {
            groups.Add(new AdamW.ParamGroup(noDecay, new AdamW.Options { LearningRate = settings.LearningRate, weight_decay = 0 }));
        }
        optimizer = optim.AdamW(groups, settings.LearningRate, settings.Beta1, settings.Beta2, settings.Epsilon, settings.WeightDecay);
    }

    public string Name { get; }

    public nn.Module Module { get; }

    public OptimizerSettings Settings { get; }

    public string? TokenizerPath { get; }

    /// <summary>The dtype the module computes in; AdamW's state and the masters are always fp32.</summary>
    public ScalarType ComputeDType { get; }

    /// <summary>Trained parameters, tied ones once.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The fp32 weights by state_dict name: the masters, or the module's own when it computes in fp32.</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => masters ?? Module.state_dict();

    /// <summary>Steps skipped so far for non-finite gradients under <see cref="OptimizerSettings.MaxNonFiniteSkips"/>.</summary>
    public int NonFiniteSkips => nonFiniteSkips;

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(int step) => schedule.At(step);

    public void ZeroGrad()
    {
        optimizer.zero_grad();
        if (masters is not null)
        {
            foreach (Parameter p in parameters)
            {
                p.grad?.zero_();
            }
        }
    }

    /// <summary>The loss to call backward on: multiplied by the fp16 loss scale (1 otherwise).</summary>
    public Tensor ScaleLoss(Tensor loss) => lossScale == 1.0 ? loss : loss * lossScale;

    /// <summary>
    /// Optimizer step <paramref name="step"/> (0-based) after backward: sets the scheduled learning rate, moves gradients to
    /// the masters (unscaled), clips, updates, and copies the masters back into the module. A non-finite gradient norm skips
    /// the update: with fp16 loss scaling it lowers the scale; otherwise it throws <see cref="NonFiniteTrainingException"/>
    /// before any weight changes.
    /// </summary>
    public StepStats Step(int step)
    {
        using var scope = NewDisposeScope();
        double learningRate = schedule.At(step);
        foreach (ParamGroup group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }
        if (masters is not null)
        {
            using (no_grad())
            {
                for (int i = 0; i < parameters.Length; i++)
                {
                    Tensor? grad = parameters[i].grad;
                    Tensor master32 = grad is null ? zeros_like(updated[i]) : grad.to(ScalarType.Float32) / lossScale;
                    if (updated[i].grad is null)
                    {
                        updated[i].grad = master32.DetachFromDisposeScope();
                    }
                    else
                    {
                        updated[i].grad!.copy_(master32);
                    }
                }
            }
        }
        double gradNorm = nn.utils.clip_grad_norm_(updated, Settings.GradClip);
        if (!double.IsFinite(gradNorm))
        {
            if (ComputeDType == ScalarType.Float16 && lossScale > 1)
            {
                lossScale /= 2;
                goodSteps = 0;
                return new StepStats(learningRate, gradNorm, Skipped: true);
            }
            if (nonFiniteSkips < Settings.MaxNonFiniteSkips)
            {
                nonFiniteSkips++;
                return new StepStats(learningRate, gradNorm, Skipped: true);
            }
            throw new NonFiniteTrainingException(
                $"{Name}: the gradient norm at step {step + 1} is {gradNorm}; the update was not applied" +
                (Settings.MaxNonFiniteSkips > 0 ? $" ({nonFiniteSkips} earlier step(s) were skipped, the most allowed)." : "."));
        }
        optimizer.step();
        if (masters is not null)
        {
            using (no_grad())
            {
                for (int i = 0; i < parameters.Length; i++)
                {
                    parameters[i].copy_(updated[i]);
                }
            }
            if (ComputeDType == ScalarType.Float16 && ++goodSteps >= ScaleGrowthInterval)
            {
                lossScale *= 2;
                goodSteps = 0;
            }
        }
        return new StepStats(learningRate, gradNorm, Skipped: false);
    }

    /// <summary>Writes the module as a Hugging Face checkpoint in <paramref name="dir"/> (fp32 weights; the masters when there are any) with its tokenizer.</summary>
    public void SaveModel(string dir)
    {
        IReadOnlyDictionary<string, Tensor>? weights = masters;
        switch (Module)
        {
            case CausalLM causal:
                HfCheckpoint.Save(causal, dir, ScalarType.Float32, weights: weights);
                break;
            case ScalarHeadModel scalar:
                HfCheckpoint.Save(scalar, dir, ScalarType.Float32, weights: weights);
                break;
            default:
                throw new NotSupportedException($"{Name}: cannot save a {Module.GetType().Name} as a Hugging Face checkpoint.");
        }
        if (TokenizerPath is not null)
        {
            string destination = Path.Combine(dir, HfCheckpoint.TokenizerFile);
            if (Path.GetFullPath(TokenizerPath) != Path.GetFullPath(destination))
            {
                AtomicFile.Write(destination, stream =>
                {
                    using FileStream source = File.OpenRead(TokenizerPath);
                    source.CopyTo(stream);
                });
            }
        }
    }

    /// <summary>Writes the model (<see cref="SaveModel"/>), the optimizer state and the loss scale into <paramref name="dir"/>.</summary>
    public void SaveState(string dir)
    {
        SaveModel(dir);
        optimizer.save_state_dict(Path.Combine(dir, OptimizerFile));
        File.WriteAllText(Path.Combine(dir, ScalerFile), JsonSerializer.Serialize(new ScalerState(lossScale, goodSteps, nonFiniteSkips)));
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote: weights (into the masters and the module), optimizer state, loss scale.</summary>
    public void LoadState(string dir)
    {
        if (masters is not null)
        {
            HfCheckpoint.LoadInto(masters, $"{Module.GetType().Name} (fp32 masters)", dir);
            using (no_grad())
            {
                for (int i = 0; i < parameters.Length; i++)
                {
                    parameters[i].copy_(updated[i]);
                }
            }
        }
        else
        {
            HfCheckpoint.LoadInto(Module, dir);
        }
        string optimizerPath = Path.Combine(dir, OptimizerFile);
        try
        {
            optimizer.load_state_dict(optimizerPath);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{optimizerPath}: unreadable optimizer state ({e.Message}).", e);
        }
        string scalerPath = Path.Combine(dir, ScalerFile);
        try
        {
            ScalerState saved = JsonSerializer.Deserialize<ScalerState>(File.ReadAllText(scalerPath))
                ?? throw new InvalidDataException($"{scalerPath}: empty.");
            (lossScale, goodSteps, nonFiniteSkips) = (saved.LossScale, saved.GoodSteps, saved.NonFiniteSkips);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{scalerPath}: unreadable loss-scale state ({e.Message}).", e);
        }
    }

    public void Dispose()
    {
        optimizer.Dispose();
        if (masters is not null)
        {
            foreach (Tensor master in masters.Values.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
            {
                master.Dispose();
            }
        }
    }

    private sealed record ScalerState(
        [property: JsonPropertyName("loss_scale")] double LossScale,
        [property: JsonPropertyName("good_steps")] int GoodSteps,
        [property: JsonPropertyName("non_finite_skips")] int NonFiniteSkips = 0);
}
