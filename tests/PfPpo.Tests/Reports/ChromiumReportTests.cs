using System.Diagnostics;
using System.Text.RegularExpressions;
using PfPpo.Reports;
using Xunit.Abstractions;

namespace PfPpo.Tests.Reports;

/// <summary>
/// Opens the reports in headless Chromium, offline, as a reader would: the page loads, its tables are in the DOM and every
/// image decodes to a picture of non-zero size. The report has no script; the test loads a copy with a probe script added
/// before &lt;/body&gt; that, once the page has loaded, writes what it found into an attribute of &lt;body&gt;, which
/// <c>--dump-dom</c> prints. Chromium is required (Debian's <c>chromium</c> package; .ci/run installs it): without it the
/// test fails, it does not skip.
/// </summary>
public partial class ChromiumReportTests(ITestOutputHelper output)
{
    /// <summary>The longest a Chromium run may take before it is killed (a loaded page takes 1-3 s here).</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private const string Probe = """
        <script>
        window.addEventListener('load', function () {
          var images = Array.prototype.slice.call(document.images);
          var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; });
          document.body.setAttribute('data-probe', 'images ' + decoded.length + '/' + images.length + '; tables ' +
            document.querySelectorAll('table').length + '; sizes ' + images.map(function (i) { return i.naturalWidth + 'x' + i.naturalHeight; }).join(','));
        });
        </script>
        """;

    [GeneratedRegex("data-probe=\"images (\\d+)/(\\d+); tables (\\d+); sizes ([^\"]*)\"")]
    private static partial Regex ProbeResult();

    [Fact]
    public async Task BothReportsLoadInHeadlessChromiumWithEveryTableAndImage()
    {
        string chromium = FindOnPath("chromium") ?? FindOnPath("chromium-browser")
            ?? throw new Xunit.Sdk.XunitException("chromium is not on PATH: install Debian's chromium package (apt-get install chromium; .ci/run installs it) to run the browser test of the HTML report.");
        using var temp = new TempDirectory("pfppo-report-");
        string comparison = Path.Combine(temp.Path, "comparison"), demo = Path.Combine(temp.Path, "demo");
        await ReportFixtures.Comparison(comparison);
        await ReportFixtures.Demo(demo);
        (string Dir, int Images, int Tables)[] pages = [(comparison, 8, 4), (demo, 6, 4)];
        foreach ((string dir, _, _) in pages)
        {
            string html = File.ReadAllText(HtmlReport.Write(dir));
            File.WriteAllText(Path.Combine(dir, "probe.html"), html.Replace("</body>", Probe + "</body>", StringComparison.Ordinal));
        }

        // Both pages at once, each in its own browser and profile: the wall time of about one Chromium start, not two.
        var clock = Stopwatch.StartNew();
        (int Code, string Dom, string StdErr)[] runs = await Task.WhenAll(pages.Select(p =>
            Task.Run(() => Run(chromium, Path.Combine(p.Dir, "profile"), Path.Combine(p.Dir, "probe.html")))));
        output.WriteLine($"chromium --dump-dom of both reports: {clock.Elapsed.TotalSeconds:F1} s");

        foreach (((string dir, int images, int tables), (int code, string dom, string stderr)) in pages.Zip(runs))
        {
            Assert.True(code == 0, $"chromium exited with {code} on {dir}: {stderr}");
            Match result = ProbeResult().Match(dom);
            Assert.True(result.Success, $"the probe did not run on {dir} (the page did not load?); stderr: {stderr}; DOM starts: {dom[..Math.Min(500, dom.Length)]}");
            Assert.Equal($"{images}/{images}", $"{result.Groups[1].Value}/{result.Groups[2].Value}");
            Assert.Equal(tables.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Groups[3].Value);
            Assert.All(result.Groups[4].Value.Split(','), size => Assert.Equal($"{Plots.Width}x{Plots.Height}", size));
            Assert.Contains("<table id=\"r2-table\">", dom);
        }
    }

    private static (int Code, string StdOut, string StdErr) Run(string chromium, string profile, string page)
    {
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking",
            $"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", new Uri(page).AbsoluteUri,
        })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {chromium}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"chromium did not finish loading {page} in {Timeout.TotalSeconds:0} s (killed); stderr: {stderr.Result}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string? FindOnPath(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, name))
        .FirstOrDefault(File.Exists);
}
