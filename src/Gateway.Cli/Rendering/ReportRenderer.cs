using System.Text.Json;
using Gateway.Cli.Api;

namespace Gateway.Cli.Rendering;

/// <summary>
/// A report of an operation: the verdict and its sentence, each step with its timing and outcome, then what the
/// measured loss was (for a promotion) and every other field of the report as it comes.
/// </summary>
public static class ReportRenderer
{
    // Shown as one sentence instead of three raw fields.
    private static readonly HashSet<string> UnreplicatedFields = ["unreplicatedBytes", "unreplicatedBytesExact", "oldPrimaryLastSeenAt"];

    public static void Write(TextWriter output, string title, OperationReport report)
    {
        output.WriteLine($"{title}: {Verdict(report)}");
        WriteBody(output, report, "  ");
    }

    private static string Verdict(OperationReport report) => report.Succeeded switch { true => "succeeded", false => "FAILED", null => "finished" };

    private static void WriteBody(TextWriter output, OperationReport report, string indent)
    {
        if (!string.IsNullOrEmpty(report.Summary))
        {
            output.WriteLine(indent + report.Summary);
        }

        if (report.Steps is { Count: > 0 } steps)
        {
            output.WriteLine();
            StepsTable(steps).WriteTo(output, indent);
        }

        if (report.Details is not { Count: > 0 } details)
        {
            return;
        }

        output.WriteLine();
        if (details.ContainsKey("unreplicatedBytes"))
        {
            output.WriteLine(indent + UnreplicatedSentence(report));
        }

        foreach (var (name, value) in details.Where(d => !UnreplicatedFields.Contains(d.Key)))
        {
            // A report inside a report (a site switch carries its database promotion's) reads like the outer one.
            if (NestedReport(value) is { } inner)
            {
                output.WriteLine($"{indent}{Format.Label(name)}: {Verdict(inner)}");
                WriteBody(output, inner, indent + "  ");
            }
            else
            {
                JsonOutline.WriteProperty(output, name, value, indent);
            }
        }
    }

    private static OperationReport? NestedReport(JsonElement value)
    {
        try
        {
            return value.ValueKind == JsonValueKind.Object && value.Deserialize<OperationReport>(AdminJson.Options) is { IsReport: true } report ? report : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static TextTable StepsTable(IReadOnlyList<StepRow> steps)
    {
        var origin = steps.Select(s => s.StartedAt).FirstOrDefault(at => at is not null);
        var table = new TextTable("at", "step", "duration ms", "outcome");
        foreach (var step in steps)
        {
            table.Add(Offset(step.StartedAt, origin), step.Step, DurationMilliseconds(step.Duration), step.Outcome);
        }

        return table;
    }

    /// <summary>"+0.14 s": when a step began, counted from the first step, so the timeline reads at a glance.</summary>
    public static string Offset(DateTimeOffset? at, DateTimeOffset? origin) =>
        at is { } start && origin is { } first ? $"+{Format.Seconds((start - first).TotalSeconds)} s" : Format.Missing;

    public static string DurationMilliseconds(JsonElement? duration) =>
        Format.TryTimeSpan(duration) is { } span ? Format.Milliseconds(span)
        : duration is { } raw ? Format.Scalar(raw)
        : Format.Missing;

    /// <summary>The measured RPO of a promotion in words: exact, a lower bound (and since when), or unknown.</summary>
    public static string UnreplicatedSentence(OperationReport report)
    {
        var details = report.Details!;
        if (!details.TryGetValue("unreplicatedBytes", out var bytes) || bytes.ValueKind != JsonValueKind.Number)
        {
            return "unreplicated WAL: unknown (the old primary's position was never observed)";
        }

        var exact = details.TryGetValue("unreplicatedBytesExact", out var flag) && flag.ValueKind == JsonValueKind.True;
        if (exact)
        {
            return $"unreplicated WAL: {bytes.GetRawText()} bytes (exact)";
        }

        var lastSeen = details.TryGetValue("oldPrimaryLastSeenAt", out var seen) && seen.ValueKind == JsonValueKind.String && seen.TryGetDateTimeOffset(out var at)
            ? $"; the old primary was last seen at {Format.Timestamp(at)}, what it acknowledged after that is unaccounted for"
            : "";
        return $"unreplicated WAL: at least {bytes.GetRawText()} bytes{lastSeen}";
    }
}
