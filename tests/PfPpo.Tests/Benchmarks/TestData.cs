using PfPpo.Evaluation;
using PfPpo.Scoring;

namespace PfPpo.Tests.Benchmarks;

internal static class TestData
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Benchmarks", "Data", name);

    /// <summary>A temp file holding <paramref name="lines"/>, deleted when disposed.</summary>
    public sealed class TempFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pfppo-test-{Guid.NewGuid():N}.jsonl");

        public TempFile(params string[] lines) => File.WriteAllLines(Path, lines);

        public void Dispose() => File.Delete(Path);
    }
}
