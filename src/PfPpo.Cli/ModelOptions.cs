using System.CommandLine;
using PfPpo.Runtime;
using static TorchSharp.torch;

namespace PfPpo.Cli;

/// <summary>
/// The options every model command shares, declared once: the model folder, device, compute dtype, CPU threads, seed and
/// output folder. A command creates the ones it needs, adds them, and resolves them in one call.
/// </summary>
public sealed class ModelOptions
{
    private ModelOptions(Option<string>? model, Option<string>? output, Option<long>? seed, bool dtype)
    {
        Model = model;
        Output = output;
        Seed = seed;
        DType = dtype ? new Option<string>("--dtype") { Description = "Compute dtype: fp32, bf16 or fp16 (training keeps fp32 master weights).", DefaultValueFactory = _ => "fp32" } : null;
    }

    public Option<string>? Model { get; }

    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };

    public Option<string>? DType { get; }

    public Option<int?> Threads { get; } = new Option<int?>("--threads") { Description = "CPU threads (default: all cores)." }
        .InRange(1, 4 * Math.Max(1, Environment.ProcessorCount));

    public Option<long>? Seed { get; }

    public Option<string>? Output { get; }

    /// <param name="model">Description of --model (required), or null when the command takes no model.</param>
    /// <param name="output">Description of --out (required), or null when the command has no output folder.</param>
    /// <param name="seed">Description of --seed (default 0), or null.</param>
    /// <param name="dtype">Whether the command takes --dtype.</param>
    /// <param name="modelFlag">The flag naming the model folder (<c>--model</c>; <c>--init</c> or <c>--policy</c> for commands that start from one).</param>
    public static ModelOptions Create(string? model, string? output = null, string? seed = null, bool dtype = true, string modelFlag = "--model") => new(
        model is null ? null : new Option<string>(modelFlag) { Description = model, Required = true },
        output is null ? null : new Option<string>("--out") { Description = output, Required = true }.AcceptWritableFolder(),
        seed is null ? null : new Option<long>("--seed") { Description = seed, DefaultValueFactory = _ => 0L },
        dtype);

    /// <summary>Adds these options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option? option in new Option?[] { Model, Output, Seed, Device, DType, Threads })
        {
            if (option is not null)
            {
                command.Options.Add(option);
            }
        }
    }

    /// <summary>Sets the thread count and parses device and dtype; errors name the flag.</summary>
    public ResolvedModelOptions Resolve(ParseResult parse)
    {
        TorchRuntime.Initialize(parse.GetValue(Threads));
        Device device = Wrap("--device", () => TorchRuntime.ParseDevice(parse.GetValue(Device)!));
        ScalarType dtype = DType is null ? ScalarType.Float32 : Wrap("--dtype", () => TorchRuntime.ParseDType(parse.GetValue(DType)!));
        return new ResolvedModelOptions(
            Model is null ? null : parse.GetValue(Model), Output is null ? null : parse.GetValue(Output),
            Seed is null ? 0 : parse.GetValue(Seed), device, dtype);
    }

    private static T Wrap<T>(string flag, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{flag}: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }
}

/// <summary>The shared options' values.</summary>
public sealed record ResolvedModelOptions(string? Model, string? Output, long Seed, Device Device, ScalarType DType);
