using System.Text.Json;
using Gateway.Cli.Api;

namespace Gateway.Cli.Rendering;

/// <summary>
/// GET /admin/status as an operator reads it: one header line, then instances, database, alarms, and every
/// further section the gateway sends (filestore, current operation, ...) in its generic form.
/// </summary>
public static class StatusRenderer
{
    public static void Write(TextWriter output, StatusDocument status)
    {
        var switching = status.Switching == true ? "SWITCHING" : status.Switching == false ? "not switching" : "switching unknown";
        output.WriteLine($"epoch {Format.Number(status.Epoch)}   active site {Format.Text(status.ActiveSite)}   {switching}");

        WritePause(output, status.Paused);
        WriteInstances(output, status.Instances);
        WriteDrained(output, status.Drained);
        WriteDatabase(output, status.Database);
        WriteForecast(output, status.IfFailoverNow);
        WriteAlarms(output, status.Alarms);
        foreach (var (name, section) in status.OtherSections ?? [])
        {
            WriteSection(output, name, section);
        }
    }

    private static void WritePause(TextWriter output, PauseSection? pause)
    {
        if (pause is not null)
        {
            var overdue = pause.Until < DateTimeOffset.UtcNow ? " (OVERDUE)" : "";
            output.WriteLine($"automatic failover PAUSED by {Format.Text(pause.By)} until {pause.Until:u}{overdue}: {Format.Text(pause.Reason)}   (gatewayctl resume)");
        }
    }

    /// <summary>What a failover now would cost, in the operator's units: bytes and seconds of WAL, files and bytes of the filestore, and the time it should take.</summary>
    private static void WriteForecast(TextWriter output, FailoverForecast? forecast)
    {
        if (forecast is null)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine($"If you fail over to {Format.Text(forecast.To)} now");
        output.WriteLine($"  database: {Format.Number(forecast.DatabaseBytesBehind)} bytes, {Format.Seconds(forecast.DatabaseSecondsBehind)} behind");
        output.WriteLine($"  files:    {Format.Number(forecast.FilesNotReplicated)} file(s), {Format.Number(forecast.BytesNotReplicated)} bytes not replicated{(forecast.FilesKnown == false ? " (or more: not known complete)" : "")}");
        output.WriteLine($"  gate:     {(forecast.GatePasses == true ? "passes" : "would refuse an automatic failover")}: {Format.Text(forecast.Reason)}");
        output.WriteLine($"  recovery: {(forecast.ExpectedRecoverySeconds is { } seconds ? $"about {seconds:0.0} s" : "unknown")} ({Format.Text(forecast.ExpectedRecoveryBasis)})");
    }

    private static void WriteInstances(TextWriter output, List<InstanceRow>? instances)
    {
        output.WriteLine();
        output.WriteLine("Instances");
        if (instances is null or [])
        {
            output.WriteLine("  none configured");
            return;
        }

        var table = new TextTable("id", "site", "url", "health", "in-flight");
        foreach (var instance in instances)
        {
            // In the health cell rather than a column of its own: a drained instance is still probed, and its health still matters.
            var health = instance.Drained == true ? $"{Format.Text(instance.Health)}, drained" : instance.Health;
            table.Add(instance.Id, instance.Site, instance.Url, health, Format.Number(instance.InFlight));
        }

        table.WriteTo(output);
    }

    /// <summary>One line under the instances; absent from a gateway too old to drain.</summary>
    private static void WriteDrained(TextWriter output, DrainedSection? drained)
    {
        if (drained is null)
        {
            return;
        }

        var targets = (drained.Sites ?? []).Select(site => $"site {site}").Concat((drained.Instances ?? []).Select(instance => $"instance {instance}")).ToList();
        output.WriteLine(targets.Count == 0 ? "Drained: none" : $"Drained: {string.Join(", ", targets)} (no new requests; wait for in-flight to reach 0)");
    }

    private static void WriteDatabase(TextWriter output, DatabaseSection? database)
    {
        output.WriteLine();
        if (database is null)
        {
            output.WriteLine("Database: not reported");
            return;
        }

        var fenced = database.Fenced is { Count: > 0 } sites ? string.Join(", ", sites) : "none";
        output.WriteLine($"Database   primary {Format.Text(database.Primary)}   fenced {fenced}");
        var endpoints = new TextTable("endpoint", "action", "site", "target", "reason");
        AddEndpoint(endpoints, "write", database.Write);
        AddEndpoint(endpoints, "read", database.Read);
        endpoints.WriteTo(output);

        if (database.Nodes is not { Count: > 0 } nodes)
        {
            return;
        }

        output.WriteLine();
        var table = new TextTable("site", "reachable", "role", "timeline", "lag bytes", "lag s", "read-only", "fenced", "sync names");
        foreach (var node in nodes)
        {
            table.Add(node.Site, Format.Flag(node.Reachable), node.Role, Format.Number(node.Timeline), Format.Number(node.ReplayLagBytes),
                Format.Seconds(node.ReplayLagSeconds) + (node.ReplayPaused == true ? " (paused)" : ""),
                Format.Flag(node.ReadOnly), Format.Flag(node.Fenced), node.SynchronousStandbyNames);
        }

        table.WriteTo(output);
        // Errors are long sentences; under the table they stay readable and the columns stay narrow.
        foreach (var node in nodes.Where(n => !string.IsNullOrEmpty(n.Error)))
        {
            output.WriteLine($"  {node.Site}: {node.Error}");
        }
    }

    private static void AddEndpoint(TextTable table, string name, EndpointDecision? decision)
    {
        var target = decision?.Host is { } host ? $"{host}:{Format.Number(decision.Port)}" : null;
        table.Add(name, decision?.Action, decision?.Site, target, decision?.Reason);
    }

    private static void WriteAlarms(TextWriter output, List<AlarmRow>? alarms)
    {
        output.WriteLine();
        if (alarms is null or [])
        {
            output.WriteLine("Alarms: none");
            return;
        }

        output.WriteLine("Alarms");
        var table = new TextTable("key", "raised at", "message");
        foreach (var alarm in alarms)
        {
            table.Add(alarm.Key, Format.Timestamp(alarm.RaisedAt), alarm.Message);
        }

        table.WriteTo(output);
    }

    private static void WriteSection(TextWriter output, string name, JsonElement section)
    {
        output.WriteLine();
        if (section.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined || (section.ValueKind == JsonValueKind.Array && section.GetArrayLength() == 0))
        {
            output.WriteLine($"{Format.Title(name)}: none");
        }
        else if (Format.IsScalar(section))
        {
            output.WriteLine($"{Format.Title(name)}: {Format.Scalar(section)}");
        }
        else
        {
            output.WriteLine(Format.Title(name));
            JsonOutline.Write(output, section);
        }
    }
}
