using System.Buffers.Binary;
using PfPpo.Filtration;
using PfPpo.Reports;
using PfPpo.Rewards;

namespace PfPpo.Tests.Reports;

public class PlotsTests
{
    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature and that the file ends with IEND.</summary>
    public static (int Width, int Height) ReadPng(string path) => ReadPng(File.ReadAllBytes(path), path);

    /// <summary>The same check on a PNG's bytes (<paramref name="what"/> names it in a failure).</summary>
    public static (int Width, int Height) ReadPng(byte[] bytes, string what = "the PNG")
    {
        Assert.True(bytes.Length > 64, $"{what} holds {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    /// <summary>The share of a PNG's pixels that are not white: 0 for a blank canvas.</summary>
    public static double InkShare(byte[] png)
    {
        using SkiaSharp.SKBitmap bitmap = SkiaSharp.SKBitmap.Decode(png) ?? throw new Xunit.Sdk.XunitException("the PNG does not decode");
        int ink = bitmap.Pixels.Count(p => p.Red < 250 || p.Green < 250 || p.Blue < 250);
        return (double)ink / (bitmap.Width * bitmap.Height);
    }

    private static StrategyR2 Result(string name, double r2, double low, double high, IReadOnlyList<RewardScore> points) =>
        new(name, points.Count, new R2Fit(r2, 1, 0, points.Count, null), new R2Interval(low, high, 100, 100),
            new BinnedR2(new R2Fit(r2, 1, 0, 4, double.IsNaN(r2) ? "all scores equal" : null), []), new R2Interval(low, high, 100, 100)) { Points = points };

    [Fact]
    public void BothFiguresArePngsOfTheHouseSizeWithContent()
    {
        using var temp = new TempDirectory();
        var random = new Random(5);
        RewardScore[] all = Enumerable.Range(0, 200).Select(i => new RewardScore(i / 100.0 + random.NextDouble(), random.Next(5) / 4.0)).ToArray();
        StrategyR2[] results =
        [
            Result("none", 0.8, 0.6, 0.9, all),
            Result("bon", 0.3, 0.0, 0.7, all.Where((_, i) => i % 5 == 0).ToArray()),
            Result("bw", double.NaN, double.NaN, double.NaN, all.Where((_, i) => i % 5 < 2).ToArray()),   // an undefined R² is drawn as text, not a bar
        ];
        IReadOnlyList<string> paths = R2Plots.Write(temp.Path, all, results, bins: 10);

        Assert.Equal(new[] { temp[R2Plots.ReliabilityFile], temp[R2Plots.R2File] }, paths);
        // The same canvas with axes and titles but no data: a figure whose series went missing would be about this size.
        Plots.Write(temp["empty.png"], Plots.Lines(new PlotAxes("title", "x", "y"), []));
        long empty = new FileInfo(temp["empty.png"]).Length;
        foreach (string path in paths)
        {
            Assert.Equal((Plots.Width, Plots.Height), ReadPng(path));
            Assert.InRange(new FileInfo(path).Length, 3 * empty / 2, 2_000_000);
        }
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp*"));
    }

    [Fact]
    public void KeptShareSplitsTiedRewardsAcrossTheBinEdgesInProportion()
    {
        // 6 responses in 3 bins of 2: rewards 0, 1 | 1, 1 | 2, 3. The value 1 spans bins 0 and 1 (1 of its 3 in bin 0).
        RewardScore[] all = new[] { 0.0, 1, 1, 1, 2, 3 }.Select(r => new RewardScore(r, 0)).ToArray();
        RewardScore[] kept = [new(0, 0), new(1, 0), new(3, 0)];   // one of the three 1s kept
        double[] share = R2Plots.KeptShare(all, 3, kept);
        Assert.Equal(new[] { (1 + 1.0 / 3) / 2, 2.0 / 3 / 2, 0.5 }, share, new Close());
        // Weights (weight mode) count by their value.
        Assert.Equal(new[] { 0.25, 0.0, 0.0 }, R2Plots.KeptShare(all, 3, [new RewardScore(0, 0, 0.5)]), new Close());
        // Keeping everything keeps all of every bin.
        Assert.Equal(new[] { 1.0, 1.0, 1.0 }, R2Plots.KeptShare(all, 3, all), new Close());
    }

    private sealed class Close : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-12;

        public int GetHashCode(double value) => 0;
    }
}
