using Gateway.Cli.Api;

namespace Gateway.Cli.Rendering;

/// <summary>A history of reports, oldest first as the gateway keeps it, one line each; --json has every detail.</summary>
public static class HistoryRenderer
{
    public static void Write(TextWriter output, IReadOnlyList<OperationReport> reports, string defaultKind)
    {
        if (reports.Count == 0)
        {
            output.WriteLine("no operations recorded yet");
            return;
        }

        var table = new TextTable("epoch", "kind", "from", "to", "started at", "total", "result", "summary");
        foreach (var report in reports)
        {
            var result = report.Succeeded switch { true => "ok", false => "FAILED", null => Format.Missing };
            table.Add(report.Detail("epoch"), report.Kind ?? defaultKind, report.Detail("from"), report.Detail("to"),
                report.Detail("startedAt"), report.Detail("total"), result, report.Summary);
        }

        table.WriteTo(output, indent: "");
    }
}
