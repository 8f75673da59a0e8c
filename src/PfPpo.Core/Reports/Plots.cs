using PfPpo.IO;
using ScottPlot;

namespace PfPpo.Reports;

/// <summary>One line of a <see cref="Plots.Lines"/> figure: points joined in order, optionally labelled one by one.</summary>
/// <param name="PointLabels">Text drawn above each point (e.g. its count), or null.</param>
/// <param name="RightAxis">Plot against the right-hand axis instead of the left.</param>
public sealed record LineSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<string>? PointLabels = null,
    bool Dashed = false, bool RightAxis = false);

/// <summary>One bar of a <see cref="Plots.Bars"/> figure with its interval (NaN value: no bar, "undefined" written instead).</summary>
public sealed record IntervalBar(string Group, double Value, double Low, double High);

/// <summary>
/// One point of a <see cref="Plots.Scatter"/> figure, labelled, with optional intervals on either axis (NaN bounds: none).
/// </summary>
public sealed record ScatterPoint(string Label, double X, double Y, double XLow = double.NaN, double XHigh = double.NaN,
    double YLow = double.NaN, double YHigh = double.NaN);

/// <summary>Axis titles and ranges of a figure; null limits are fitted to the data.</summary>
public sealed record PlotAxes(string Title, string X, string Y, string? RightY = null, (double Min, double Max)? YLimits = null,
    (double Min, double Max)? RightYLimits = null, (double Min, double Max)? XLimits = null);

/// <summary>
/// PNG figures with ScottPlot, in one house style (size, fonts, palette, legend). The few figure kinds the reports need
/// (lines with labelled points on one or two y axes, grouped bars with intervals, labelled points with intervals) live
/// here so every report draws them alike. Each returns the PNG's bytes, which a report embeds or <see cref="Write"/>
/// writes atomically (<see cref="AtomicFile"/>), so a reader never sees half a PNG.
/// </summary>
public static class Plots
{
    public const int Width = 900;
    public const int Height = 560;

    /// <summary>Lines with markers; series with <see cref="LineSeries.RightAxis"/> use the right axis (<see cref="PlotAxes.RightY"/>).</summary>
    public static byte[] Lines(PlotAxes axes, IReadOnlyList<LineSeries> series)
    {
        Plot plot = New(axes);
        foreach ((LineSeries line, int index) in series.Select((s, i) => (s, i)))
        {
            double[] xs = [.. line.X], ys = [.. line.Y];
            if (xs.Length != ys.Length)
            {
                throw new ArgumentException($"series {line.Label}: {xs.Length} x values and {ys.Length} y values");
            }
            var scatter = plot.Add.Scatter(xs, ys, Palette[index % Palette.Length]);
            scatter.LegendText = line.Label;
            scatter.LineWidth = line.RightAxis ? 1.5f : 2.5f;
            scatter.MarkerSize = line.RightAxis ? 5 : 8;
            scatter.LinePattern = line.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            if (line.RightAxis)
            {
                scatter.Axes.YAxis = plot.Axes.Right;
            }
            for (int i = 0; line.PointLabels is not null && i < xs.Length; i++)
            {
                var text = plot.Add.Text(line.PointLabels[i], xs[i], ys[i]);
                text.LabelFontSize = 11;
                text.LabelAlignment = Alignment.LowerCenter;
                text.OffsetY = -6;
                text.LabelFontColor = Palette[index % Palette.Length];
                if (line.RightAxis)
                {
                    text.Axes.YAxis = plot.Axes.Right;
                }
            }
        }
        plot.Axes.AutoScale();
        if (axes.RightY is not null)
        {
            plot.Axes.Right.Label.Text = axes.RightY;
            if (axes.RightYLimits is (double low, double high))
            {
                plot.Axes.SetLimitsY(low, high, plot.Axes.Right);
            }
        }
        return Png(plot, axes);
    }

    /// <summary>
    /// Grouped bars with percentile intervals: one group per distinct <see cref="IntervalBar.Group"/> (in order of first
    /// appearance), one bar per series within it.
    /// </summary>
    public static byte[] Bars(PlotAxes axes, IReadOnlyList<(string Label, IReadOnlyList<IntervalBar> Bars)> series)
    {
        Plot plot = New(axes);
        string[] groups = series.SelectMany(s => s.Bars.Select(b => b.Group)).Distinct().ToArray();
        double width = 0.8 / Math.Max(1, series.Count);
        foreach (((string label, IReadOnlyList<IntervalBar> bars), int index) in series.Select((s, i) => (s, i)))
        {
            Color color = Palette[index % Palette.Length];
            var drawn = new List<Bar>();
            var intervals = new List<(double X, double Y, double Below, double Above)>();
            foreach (IntervalBar bar in bars)
            {
                double position = Array.IndexOf(groups, bar.Group) - 0.4 + width * (index + 0.5);
                if (double.IsNaN(bar.Value))
                {
                    var undefined = plot.Add.Text("undefined", position, 0);
                    undefined.LabelFontSize = 10;
                    undefined.LabelAlignment = Alignment.LowerCenter;
                    undefined.LabelRotation = -90;
                    continue;
                }
                drawn.Add(new Bar { Position = position, Value = bar.Value, Size = width * 0.9, FillColor = color });
                if (!double.IsNaN(bar.Low) && !double.IsNaN(bar.High))
                {
                    intervals.Add((position, bar.Value, bar.Value - bar.Low, bar.High - bar.Value));
                }
            }
            var plottable = plot.Add.Bars(drawn);
            plottable.LegendText = label;
            if (intervals.Count > 0)
            {
                var errors = plot.Add.ErrorBar(intervals.Select(i => i.X).ToArray(), intervals.Select(i => i.Y).ToArray(),
                    intervals.Select(i => i.Above).ToArray());
                errors.YErrorNegative = intervals.Select(i => i.Below).ToArray();
                errors.Color = Colors.Black;
                errors.LineWidth = 1.5f;
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            groups.Select((_, i) => (double)i).ToArray(), groups);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.HideGrid();
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsX(-0.6, groups.Length - 0.4);
        return Png(plot, axes);
    }

    /// <summary>
    /// Labelled points, each with its intervals as error bars (a bound that is NaN draws no bar on that side's axis); all
    /// in one colour, since the labels say which point is which.
    /// </summary>
    public static byte[] Scatter(PlotAxes axes, IReadOnlyList<ScatterPoint> points)
    {
        Plot plot = New(axes, legend: false);
        Color color = Palette[0];
        ScatterPoint[] shown = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        if (shown.Length > 0)
        {
            var markers = plot.Add.ScatterPoints(shown.Select(p => p.X).ToArray(), shown.Select(p => p.Y).ToArray(), color);
            markers.MarkerSize = 10;
            var errors = plot.Add.ErrorBar(shown.Select(p => p.X).ToArray(), shown.Select(p => p.Y).ToArray(),
                shown.Select(p => Above(p.Y, p.YHigh)).ToArray());
            errors.YErrorNegative = shown.Select(p => Below(p.Y, p.YLow)).ToArray();
            errors.XErrorPositive = shown.Select(p => Above(p.X, p.XHigh)).ToArray();
            errors.XErrorNegative = shown.Select(p => Below(p.X, p.XLow)).ToArray();
            errors.Color = Colors.Black;
            errors.LineWidth = 1.5f;
        }
        foreach (ScatterPoint point in shown)
        {
            var text = plot.Add.Text(point.Label, point.X, point.Y);
            text.LabelFontSize = 12;
            text.LabelAlignment = Alignment.LowerLeft;
            text.OffsetX = 6;
            text.OffsetY = -6;
            text.LabelFontColor = color;
        }
        plot.Axes.AutoScale();
        if (axes.XLimits is (double low, double high))
        {
            plot.Axes.SetLimitsX(low, high);
        }
        return Png(plot, axes);
    }

    /// <summary>Writes a figure's PNG bytes to <paramref name="path"/> atomically (its folder is created).</summary>
    public static void Write(string path, byte[] png) => AtomicFile.Write(path, stream => stream.Write(png));

    private static double Above(double value, double high) => double.IsNaN(high) ? 0 : Math.Max(0, high - value);

    private static double Below(double value, double low) => double.IsNaN(low) ? 0 : Math.Max(0, value - low);

    private static readonly Color[] Palette =
        [Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"), Color.FromHex("#9467bd"),
         Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"), Color.FromHex("#bcbd22"), Color.FromHex("#17becf")];

    /// <remarks>A figure without a legend must not show one at all: ScottPlot 5.1 draws a blank image when a legend shown on
    /// an edge is hidden again.</remarks>
    private static Plot New(PlotAxes axes, bool legend = true)
    {
        var plot = new Plot();
        plot.Title(axes.Title);
        plot.XLabel(axes.X);
        plot.YLabel(axes.Y);
        if (legend)
        {
            plot.ShowLegend(Edge.Bottom);
        }
        return plot;
    }

    private static byte[] Png(Plot plot, PlotAxes axes)
    {
        if (axes.YLimits is (double low, double high))
        {
            plot.Axes.SetLimitsY(low, high);
        }
        return plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png);
    }
}
