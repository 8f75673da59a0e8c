namespace PfPpo.Tests;

/// <summary>
/// Tests that start and signal whole pfppo processes or inspect this machine's cgroups and temp folders: they run alone,
/// after the parallel tests, so other tests' sandbox pools neither race their cleanup assertions nor load the machine
/// while they time a signal.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SequentialCollection
{
    public const string Name = "Sequential (processes and cgroups)";
}
