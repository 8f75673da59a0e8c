using PfPpo.Model;
using static TorchSharp.torch;

namespace PfPpo.Tests.Model;

public class ParameterCountTests
{
    [Theory]
    [InlineData("qwen2", false)]
    [InlineData("qwen2", true)]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    public void TheCountFromTheShapeEqualsTheBuiltModels(string arch, bool tied)
    {
        ModelConfig config = TestModels.Tiny(arch, tied);
        using CausalLM model = TestModels.Create(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), config.CausalLMParameterCount());
        Assert.Equal(config.CausalLMParameterCount() * 6, ModelInitializer.EstimateMemoryBytes(config, ScalarType.BFloat16));
    }

    [Fact]
    public void AvailableMemoryIsPositiveAndBounded()
    {
        long available = ModelInitializer.AvailableMemoryBytes();
        Assert.InRange(available, 1, long.MaxValue - 1);
    }
}
