using PfPpo.Generation;
using PfPpo.Model;
using Generator = PfPpo.Generation.Generator;

namespace PfPpo.Tests.Model;

public class ModuleModesTests
{
    [Fact]
    public void EvalModeHoldsForTheScopeAndRestoresThePreviousMode()
    {
        using CausalLM model = TestModels.Create(TestModels.Tiny());
        model.train();
        using (model.EvalMode())
        {
            Assert.False(model.training);
            Assert.All(model.modules(), m => Assert.False(m.training));
        }
        Assert.True(model.training);
        model.eval();
        using (model.EvalMode())
        {
            Assert.False(model.training);
        }
        Assert.False(model.training);
    }

    [Fact]
    public void GenerationLeavesATrainingModelInTrainingMode()
    {
        using CausalLM model = TestModels.Create(TestModels.Tiny());
        model.train();
        new Generator(model).Generate([new[] { 3, 4, 5 }], new SamplingOptions { MaxNewTokens = 2, Temperature = 0, EosTokenIds = [] });
        Assert.True(model.training);
    }
}
