using PfPpo.Runtime;
using static TorchSharp.torch;

namespace PfPpo.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void TensorOpAndBackwardPassRun()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        var y = (x * x).sum();
        y.backward();
        Assert.Equal(14f, y.item<float>());
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void ThreadCountDefaultsToTheMachinesCores()
    {
        TorchRuntime.Initialize();
        Assert.Equal(Environment.ProcessorCount, get_num_threads());
    }

    [Theory]
    [InlineData("fp32", ScalarType.Float32)]
    [InlineData("bf16", ScalarType.BFloat16)]
    [InlineData("float16", ScalarType.Float16)]
    public void ParsesDTypeNames(string name, ScalarType expected) => Assert.Equal(expected, TorchRuntime.ParseDType(name));

    [Fact]
    public void UnknownDTypeIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDType("int7"));
        Assert.Contains("int7", e.Message);
    }

    [Fact]
    public void CudaWithoutCudaBuildIsAClearError()
    {
        if (cuda.is_available())
        {
            return;
        }
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDevice("cuda"));
        Assert.Contains("CUDA", e.Message);
    }
}
