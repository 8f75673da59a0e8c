using System.Text;

namespace PfPpo.Reports;

/// <summary>A table cell: its text (escaped when written), an optional tooltip, and whether it is a number (right-aligned).</summary>
public sealed record HtmlCell(string Text, string? Title = null, bool Number = false)
{
    public static implicit operator HtmlCell(string text) => new(text);
}

/// <summary>
/// Builds one self-contained HTML page: inline CSS, figures embedded as <c>data:image/png;base64</c> URIs, no script and
/// no reference outside the file, so it opens offline. Every text it is given is HTML-escaped; none is trusted markup.
/// </summary>
public sealed class HtmlPage
{
    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1100px;
               padding: 0 1em; color: #222; line-height: 1.45; }
        h1 { font-size: 1.6em; margin-bottom: 0.2em; }
        h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
        div.table { overflow-x: auto; margin: 0.8em 0; }
        table { border-collapse: collapse; font-size: 0.85em; }
        caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3em; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.15em 1em; }
        dl.meta dt { font-weight: 600; }
        dl.meta dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
        figure { margin: 1.5em 0; }
        figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
        figcaption { font-size: 0.9em; color: #444; max-width: 900px; }
        p.note { color: #8a5a00; }
        """;

    private readonly StringBuilder _body = new();

    /// <summary>How many figures the page embeds.</summary>
    public int Figures { get; private set; }

    /// <summary>How many tables the page holds.</summary>
    public int Tables { get; private set; }

    /// <summary>Escapes the five characters that HTML text and attribute values give meaning to; others stay as they are (UTF-8 page).</summary>
    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);

    public HtmlPage Heading(int level, string text)
    {
        _body.Append($"<h{level}>{Escape(text)}</h{level}>\n");
        return this;
    }

    public HtmlPage Paragraph(string text)
    {
        _body.Append($"<p>{Escape(text)}</p>\n");
        return this;
    }

    /// <summary>A warning-coloured paragraph: something the report could not show, and why.</summary>
    public HtmlPage Note(string text)
    {
        _body.Append($"<p class=\"note\">{Escape(text)}</p>\n");
        return this;
    }

    /// <summary>Name/value pairs (the run's header); null values are left out.</summary>
    public HtmlPage Facts(IEnumerable<(string Name, string? Value)> facts)
    {
        _body.Append("<dl class=\"meta\">\n");
        foreach ((string name, string? value) in facts.Where(f => f.Value is not null))
        {
            _body.Append($"<dt>{Escape(name)}</dt><dd>{Escape(value!)}</dd>\n");
        }
        _body.Append("</dl>\n");
        return this;
    }

    public HtmlPage Table(string caption, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<HtmlCell>> rows, string? id = null)
    {
        _body.Append("<div class=\"table\">").Append(id is null ? "<table>\n" : $"<table id=\"{Escape(id)}\">\n");
        _body.Append($"<caption>{Escape(caption)}</caption>\n<thead><tr>");
        foreach (string name in header)
        {
            _body.Append($"<th>{Escape(name)}</th>");
        }
        _body.Append("</tr></thead>\n<tbody>\n");
        foreach (IReadOnlyList<HtmlCell> row in rows)
        {
            if (row.Count != header.Count)
            {
                throw new ArgumentException($"table {caption}: a row of {row.Count} cells under {header.Count} headers", nameof(rows));
            }
            _body.Append("<tr>");
            foreach (HtmlCell cell in row)
            {
                string title = cell.Title is null ? "" : $" title=\"{Escape(cell.Title)}\"";
                _body.Append(cell.Number ? $"<td class=\"num\"{title}>" : $"<td{title}>").Append(Escape(cell.Text)).Append("</td>");
            }
            _body.Append("</tr>\n");
        }
        _body.Append("</tbody>\n</table></div>\n");
        Tables++;
        return this;
    }

    /// <summary>A PNG figure embedded as a data URI, with its alternative text and a caption saying what it shows.</summary>
    public HtmlPage Figure(byte[] png, string alt, string caption)
    {
        _body.Append($"<figure><img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" width=\"{Plots.Width}\" height=\"{Plots.Height}\" alt=\"{Escape(alt)}\">")
            .Append($"<figcaption>{Escape(caption)}</figcaption></figure>\n");
        Figures++;
        return this;
    }

    public string Render(string title) => $"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{Escape(title)}</title>
        <style>
        {Style}
        </style>
        </head>
        <body>
        {_body}</body>
        </html>

        """;
}
