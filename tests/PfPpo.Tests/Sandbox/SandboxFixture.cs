using PfPpo.Evaluation;
using PfPpo.Sandbox;
using PfPpo.Scoring;

namespace PfPpo.Tests.Sandbox;

/// <summary>One pool (and one scorer) shared by the sandbox tests: starting workers is the expensive part.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public static SandboxLimits Limits { get; } = SandboxLimits.Default with
    {
        Timeout = TimeSpan.FromSeconds(2),
        CpuSeconds = 3,
        MemoryBytes = 512L << 20,
        MaxOutputBytes = 4096,
    };

    public SandboxPool Pool { get; private set; } = null!;

    public Scorer Scorer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Pool = await SandboxPool.CreateAsync(new SandboxPoolOptions(Workers: 2, Limits: Limits));
        Scorer = await Scorer.CreateAsync(new ScorerOptions(Workers: 2, Limits: Limits));
    }

    public async Task DisposeAsync()
    {
        await Pool.DisposeAsync();
        await Scorer.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}
