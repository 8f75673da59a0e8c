using System.Text.RegularExpressions;
using PfPpo.IO;
using PfPpo.Reports;
using PfPpo.Tests.Cli;

namespace PfPpo.Tests.Reports;

public partial class HtmlReportTests
{
    [GeneratedRegex("<img\\b[^>]*>")]
    private static partial Regex ImgTag();

    [GeneratedRegex("\\bsrc=\"([^\"]*)\"")]
    private static partial Regex Src();

    /// <summary>
    /// Every image is a PNG data URI that decodes to a whole PNG of the house size; nothing is fetched (no http(s), no
    /// linked file or script); returns how many images there are.
    /// </summary>
    public static int AssertSelfContained(string html)
    {
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        MatchCollection images = ImgTag().Matches(html);
        foreach (Match image in images)
        {
            string src = Src().Match(image.Value).Groups[1].Value;
            const string Prefix = "data:image/png;base64,";
            Assert.StartsWith(Prefix, src);
            byte[] png = Convert.FromBase64String(src[Prefix.Length..]);
            Assert.Equal((Plots.Width, Plots.Height), PlotsTests.ReadPng(png));
            Assert.InRange(PlotsTests.InkShare(png), 0.02, 0.9);   // a figure, not a blank canvas
        }
        Assert.Equal(images.Count, Src().Matches(html).Count);   // no src= outside the images
        return images.Count;
    }

    [Fact]
    public async Task ComparisonReportHasBothTablesEveryFigureAndNothingExternal()
    {
        using var temp = new TempDirectory("pfppo-report-");
        await ReportFixtures.Comparison(temp.Path);
        Assert.Equal(RunKind.Comparison, HtmlReport.Detect(temp.Path));

        string path = HtmlReport.Write(temp.Path);

        Assert.Equal(temp[HtmlReport.FileName], path);
        string html = File.ReadAllText(path);
        foreach (string id in new[] { "methods", "per-seed", "strategies", "r2-table" })
        {
            Assert.Contains($"<table id=\"{id}\">", html);
        }
        foreach (string method in ReportFixtures.Methods)
        {
            Assert.Contains($"<td>{method}</td>", html);
        }
        // Numbers as compare.json has them: mean [ci_low, ci_high], deltas signed, per-seed values in the tooltip.
        Assert.Contains("0.475 [0.470, 0.480]", html);
        Assert.Contains("0.490 [0.485, 0.495]", html);
        Assert.Contains("0.500 [0.495, 0.505]", html);                 // pf-br best on validation
        Assert.Contains("+0.030 [+0.025, +0.035]", html);              // pf-br vs PPO-M
        Assert.Contains("-0.030 [-0.035, -0.025]", html);              // pf-bon vs PPO-M
        Assert.Contains("per seed (1, 2, 3): 0.475, 0.475, 0.475", html);
        Assert.Contains("<th>difficulty 3</th>", html);
        Assert.Contains("<th>humaneval.jsonl</th>", html);
        Assert.Contains("0.125 [0.120, 0.130]", html);
        Assert.Contains("1,600", html);
        Assert.Contains("123.4", html);
        Assert.Contains("Spearman rank correlation of R² with pass@1 over ppo-m, pf-bon, pf-br, pf-bw: +0.400 (95% interval -0.200 to +0.900)", html);
        // Strings from files are escaped.
        Assert.Contains("--note &lt;b&gt;&amp;&quot;x&quot;", html);
        Assert.DoesNotContain("<b>", html);
        // pass@1, reliability, R² by strategy, R² against pass@1, and reward / pass rate / KL / loss curves.
        Assert.Equal(8, AssertSelfContained(html));
        foreach (string alt in new[] { "pass@1 by method", "reliability curve", "R² by strategy", "R² against pass@1", "training curve: reward",
                     "training curve: pass rate", "training curve: KL", "training curve: loss" })
        {
            Assert.Contains($"alt=\"{alt}\"", html);
        }
        Assert.Contains("95% interval over seeds", html);
        Assert.DoesNotContain("class=\"note\"", html);                 // everything was found
    }

    [Fact]
    public async Task DemoReportHasTheSingleRunSummaryStageTimesR2AndTheRlCurves()
    {
        using var temp = new TempDirectory("pfppo-report-");
        await ReportFixtures.Demo(temp.Path);
        Assert.Equal(RunKind.Demo, HtmlReport.Detect(temp.Path));

        string html = File.ReadAllText(HtmlReport.Write(temp.Path));

        foreach (string id in new[] { "summary", "measures", "stages", "r2-table" })
        {
            Assert.Contains($"<table id=\"{id}\">", html);
        }
        Assert.Contains("One run of one seed", html);
        Assert.Contains("<td>PF-PPO</td><td>bon</td><td class=\"num\">0.470</td>", html);
        Assert.Contains("<td>PPO-M</td><td>none</td><td class=\"num\">0.465</td>", html);
        Assert.Contains("<td>SFT</td><td>—</td><td class=\"num\">0.475</td>", html);
        Assert.Contains("<td>pf-ppo</td><td class=\"num\">19.5</td><td></td>", html);
        Assert.Contains("<td>tasks</td><td class=\"num\">10.5</td><td>reused</td>", html);
        Assert.Contains("the 200 held-out test tasks", html);
        foreach (string strategy in new[] { "none", "bon", "br", "bw" })
        {
            Assert.Contains($"<td>{strategy}</td>", html);
        }
        // pass@1, reliability, R² by strategy, reward / pass rate / KL curves (no loss: the RL metrics carry policy_loss).
        Assert.Equal(6, AssertSelfContained(html));
        Assert.DoesNotContain("alt=\"training curve: loss\"", html);
    }

    [Fact]
    public async Task TheReliabilityCurveIsLeftOutWithANoteWhenTheSamplesAreGone()
    {
        using var temp = new TempDirectory("pfppo-report-");
        await ReportFixtures.Demo(temp.Path);
        File.Delete(temp["r2/samples.jsonl"]);
        Directory.Delete(temp["pf-ppo"], recursive: true);

        string html = HtmlReport.Build(temp.Path);

        Assert.Contains("no reliability curve: ", html);
        Assert.DoesNotContain("alt=\"reliability curve\"", html);
        Assert.Contains("alt=\"R² by strategy\"", html);
        Assert.Equal(5, AssertSelfContained(html));
    }

    [Fact]
    public void AMissingFolderOrOneWithNeitherRunIsAnErrorThatNamesItAndWhatWasExpected()
    {
        using var temp = new TempDirectory("pfppo-report-");
        string missing = temp["nope"];
        var notFound = Assert.Throws<DirectoryNotFoundException>(() => HtmlReport.Write(missing));
        Assert.Equal($"{missing}: no such folder; expected a run folder written by pfppo compare (with compare.json) or by pfppo demo (with summary.json)", notFound.Message);

        var neither = Assert.Throws<FileNotFoundException>(() => HtmlReport.Write(temp.Path));
        Assert.Equal($"{temp.Path}: holds neither a comparison run (no compare.json, which pfppo compare writes) nor a demo run (no summary.json, which pfppo demo writes)", neither.Message);

        // A PPO run's summary.json is not a demo's.
        File.WriteAllText(temp["summary.json"], "{\"eval_pass_at_1\": 0.5}");
        var ppo = Assert.Throws<DataFormatException>(() => HtmlReport.Write(temp.Path));
        Assert.Contains($"{temp["summary.json"]} has no \"stage_seconds\"", ppo.Message);
        Assert.False(File.Exists(temp[HtmlReport.FileName]));
    }

    [Fact]
    public async Task MalformedFilesAreNamed()
    {
        using var temp = new TempDirectory("pfppo-report-");
        await ReportFixtures.Comparison(temp.Path);
        string compare = temp["compare.json"], r2 = temp["shared/r2/r2.json"], metrics = temp["runs/pf-br/seed-2/train/metrics.jsonl"];
        string compareText = File.ReadAllText(compare), r2Text = File.ReadAllText(r2);

        File.WriteAllText(compare, compareText[..^10]);
        Assert.StartsWith($"{compare}: invalid JSON", Assert.Throws<DataFormatException>(() => HtmlReport.Build(temp.Path)).Message);
        File.WriteAllText(compare, compareText.Replace("\"mean\": 0.49,", "\"mean\": \"high\","));
        Assert.Equal($"{compare}: $.methods.pf-br.pass_at_1.mean must be a number, not \"high\"",
            Assert.Throws<DataFormatException>(() => HtmlReport.Build(temp.Path)).Message);
        File.WriteAllText(compare, compareText);

        File.WriteAllText(r2, "{\"bins\": 10, \"strategies\": ");
        Assert.StartsWith($"{r2}: invalid JSON", Assert.Throws<DataFormatException>(() => HtmlReport.Build(temp.Path)).Message);
        File.WriteAllText(r2, r2Text);

        File.AppendAllText(metrics, "{\"iteration\": 5, \"kl\": 0.1\n");
        Assert.StartsWith($"{metrics}:5: invalid JSON", Assert.Throws<DataFormatException>(() => HtmlReport.Build(temp.Path)).Message);
        Assert.False(File.Exists(temp[HtmlReport.FileName]));
    }

    [Fact]
    public async Task TheReportCommandWritesTheFileAndPrintsItsPathOrAOneLineError()
    {
        using var temp = new TempDirectory("pfppo-report-");
        await ReportFixtures.Demo(temp.Path);

        CliRunner.Result ok = CliRunner.Run("report", temp.Path);
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Equal($"report: {temp[HtmlReport.FileName]}", ok.StdOut.Trim());
        Assert.True(File.Exists(temp[HtmlReport.FileName]));

        CliRunner.Result missing = CliRunner.Run("report", temp["nope"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"error: {temp["nope"]}: no such folder; expected a run folder written by pfppo compare (with compare.json) or by pfppo demo (with summary.json)",
            missing.StdErr.Trim());
    }
}
