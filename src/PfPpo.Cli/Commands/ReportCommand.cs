using System.CommandLine;
using PfPpo.Reports;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo report DIR</c>: DIR/report.html, one self-contained page of a comparison or demo run.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "A run folder written by pfppo compare (compare.json) or pfppo demo (summary.json)." };
        var command = new Command("report",
            "Write DIR/report.html: tables and figures of a comparison or demo run in one self-contained file (PNG figures embedded, inline CSS, no scripts, nothing fetched).");
        command.Arguments.Add(dir);
        command.SetAction(parse => UserErrors.Run(() =>
        {
            string path = HtmlReport.Write(parse.GetValue(dir)!);
            Console.WriteLine($"report: {path}");
            return 0;
        }));
        return command;
    }
}
