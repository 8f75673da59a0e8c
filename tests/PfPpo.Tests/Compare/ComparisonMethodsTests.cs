using PfPpo.Compare;
using PfPpo.Filtration;

namespace PfPpo.Tests.Compare;

public class ComparisonMethodsTests
{
    [Fact]
    public void TheCatalogHasEveryMethodOfTheIssueAndThePresets()
    {
        string[] expected =
        [
            "sft", "raft", "bond", "dpo", "ipo", "kto", "iterative-dpo", "ppo-s", "ppo-m", "pf-bon", "pf-br", "pf-bw", "ppo-top", "ppo-top-random",
            "ppo-top-bottom", "ppo-pow-1", "ppo-pow-2", "ppo-pow-3", "grpo", "ppo-execution", "pf-auto",
        ];
        Assert.Equal(expected.Order(), ComparisonMethods.All.Select(m => m.Name).Order());
        Assert.Equal(["sft", "ppo-m", "pf-br", "pf-bw", "grpo", "ppo-execution"], CompareSettings.Quick.Methods);
        Assert.Equal(3, CompareSettings.Quick.Seeds.Count);
        Assert.Equal(expected.Length, CompareSettings.Paper.Methods.Count);
        Assert.Equal(5, CompareSettings.Paper.Seeds.Count);
        Assert.Throws<FormatException>(() => CompareSettings.Preset("huge"));
    }

    [Fact]
    public void EveryFilterParsesAndOnlyTheFiltrationRowsCountForTheCorrelation()
    {
        foreach (ComparisonMethod method in ComparisonMethods.All.Where(m => m.Filter != "auto"))
        {
            _ = FiltrationStrategy.Parse(method.Filter);
        }
        string[] rows = [.. ComparisonMethods.All.Where(m => m.IsFiltrationRow).Select(m => m.Name)];
        Assert.Equal(["ppo-m", "pf-bon", "pf-br", "pf-bw", "ppo-top", "ppo-top-random", "ppo-top-bottom", "ppo-pow-1", "ppo-pow-2", "ppo-pow-3"], rows);
        // the R² stage measures each filtration row's strategy once, none first
        Assert.Equal(["none", "br", "bw"], ComparisonMethods.Strategies(ComparisonMethods.ParseList("grpo,pf-bw,ppo-m,pf-br,ppo-execution")));
    }

    [Fact]
    public void ListsKeepTheCatalogOrderAndNameUnknownMethods()
    {
        Assert.Equal(["sft", "ppo-m", "grpo"], ComparisonMethods.ParseList(" GRPO, sft ,ppo-m,sft").Select(m => m.Name));
        var error = Assert.Throws<FormatException>(() => ComparisonMethods.ParseList("ppo-m,ppo-x"));
        Assert.Contains("unknown method 'ppo-x'", error.Message);
        Assert.Contains("pf-br", error.Message);
        Assert.Throws<FormatException>(() => ComparisonMethods.ParseList(" , "));
    }
}
