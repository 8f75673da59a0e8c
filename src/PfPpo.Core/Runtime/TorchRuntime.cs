using TorchSharp;

namespace PfPpo.Runtime;

/// <summary>
/// Process-wide TorchSharp settings: thread count and the device that models and tensors are placed on.
/// Nothing here assumes CPU: a CUDA build of TorchSharp makes <c>cuda</c> devices available through the same calls.
/// </summary>
public static class TorchRuntime
{
    /// <summary>Sets libtorch's intra-op thread count; the default is the machine's logical core count.</summary>
    public static void Initialize(int? threads = null)
    {
        int count = threads ?? Environment.ProcessorCount;
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), count, "The thread count must be at least 1.");
        }
        if (torch.get_num_threads() != count)
        {
            torch.set_num_threads(count);
        }
    }

    /// <summary>Parses a device name such as <c>cpu</c>, <c>cuda</c> or <c>cuda:1</c>, checking that it is usable.</summary>
    public static torch.Device ParseDevice(string name)
    {
        string lower = name.Trim().ToLowerInvariant();
        if (lower == "cpu")
        {
            return torch.CPU;
        }
        if (lower == "cuda" || lower.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (lower.Length > 4 && !int.TryParse(lower.AsSpan(5), out index))
            {
                throw new ArgumentException($"Unknown device '{name}': use cpu, cuda or cuda:N.", nameof(name));
            }
            if (!torch.cuda.is_available())
            {
                throw new ArgumentException(
                    $"Device '{name}' asked for, but this TorchSharp build has no CUDA support (reference a CUDA TorchSharp package).",
                    nameof(name));
            }
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Unknown device '{name}': use cpu, cuda or cuda:N.", nameof(name));
    }

    /// <summary>Parses a compute dtype name: fp32/float32, fp16/float16, bf16/bfloat16.</summary>
    public static torch.ScalarType ParseDType(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "float32" or "float" or "f32" => torch.ScalarType.Float32,
        "fp16" or "float16" or "half" or "f16" => torch.ScalarType.Float16,
        "bf16" or "bfloat16" => torch.ScalarType.BFloat16,
        _ => throw new ArgumentException($"Unknown dtype '{name}': use fp32, fp16 or bf16.", nameof(name)),
    };
}
