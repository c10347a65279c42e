using System.Globalization;
using Gateway.Cli.Api;

namespace Gateway.Cli.Rendering;

/// <summary>Backups as tables and sentences: the list, one backup with its cut and parts, a drill, a progress line.</summary>
public static class BackupRenderer
{
    public static void WriteList(TextWriter output, BackupListDocument list)
    {
        if (!list.Enabled)
        {
            output.WriteLine("backups are not configured (Gateway:Backup:RepositoryPath is empty)");
            return;
        }

        if (list.Running is { } running)
        {
            output.WriteLine($"running: {ProgressLine(running)}");
        }

        if (list.Backups is not { Count: > 0 } backups)
        {
            output.WriteLine("no backups yet");
            return;
        }

        var table = new TextTable("id", "status", "cut at", "hold ms", "database", "files", "last drill", "summary");
        foreach (var backup in backups)
        {
            table.Add(backup.Id, backup.Status?.ToLowerInvariant(), Format.Timestamp(backup.Cut?.HeldAt), Milliseconds(backup.Cut?.Hold),
                backup.Database is { } db ? $"{db.Label} ({Bytes(db.DatabaseBytes)})" : null,
                backup.Files is { } files ? $"{files.Files} files ({Bytes(files.Bytes)})" : null,
                backup.Verifications?.LastOrDefault() is { } drill ? $"{(drill.Passed == true ? "passed" : "FAILED")} {Format.Timestamp(drill.At)}" : null,
                backup.Summary);
        }

        table.WriteTo(output, "");
    }

    public static void WriteBackup(TextWriter output, BackupRow backup)
    {
        output.WriteLine($"backup {backup.Id}: {backup.Status?.ToLowerInvariant()}");
        output.WriteLine($"  {backup.Summary}");
        output.WriteLine();
        if (backup.Cut is { } cut)
        {
            output.WriteLine($"  cut:           {Format.Timestamp(cut.HeldAt)}, writes held {Milliseconds(cut.Hold)} ms " +
                $"(drain {Milliseconds(cut.Drain)}, replica catch-up {Milliseconds(cut.CatchUp)}, snapshot {Milliseconds(cut.Snapshot)}); files from the {cut.SnapshotSource}");
            output.WriteLine($"  restore point: {cut.RestorePoint} at {cut.RestorePointLsn} on {cut.PrimarySite}");
        }

        if (backup.Database is { } db)
        {
            output.WriteLine($"  database:      {db.Tool}, {db.Type} set {db.Label} from site {db.FromSite}: {Bytes(db.DatabaseBytes)} ({Bytes(db.RepositoryBytes)} added to the repository)");
        }

        if (backup.Files is { } files)
        {
            output.WriteLine($"  files:         {files.Tool}, snapshot {Short(files.SnapshotId)}: {files.Files} files, {Bytes(files.Bytes)} ({Bytes(files.AddedBytes)} added)");
        }

        foreach (var drill in backup.Verifications ?? [])
        {
            output.WriteLine($"  drill:         {(drill.Passed == true ? "passed" : "FAILED")} at {Format.Timestamp(drill.At)}: {drill.Summary}");
        }

        if (backup.Steps is { Count: > 0 } steps)
        {
            output.WriteLine();
            ReportRenderer.StepsTable(steps).WriteTo(output);
        }
    }

    public static void WriteDrill(TextWriter output, string id, DrillRow drill)
    {
        output.WriteLine($"restore drill of {id}: {(drill.Passed == true ? "passed" : "FAILED")}");
        output.WriteLine($"  {drill.Summary}");
        if (drill.Steps is { Count: > 0 } steps)
        {
            output.WriteLine();
            ReportRenderer.StepsTable(steps).WriteTo(output);
        }
    }

    /// <summary>"back up the database ...: 12.3 MiB of 30.0 MiB (41 %), 8.1 MiB/s, ETA 2 s".</summary>
    public static string ProgressLine(BackupProgressRow progress)
    {
        var parts = new List<string>();
        if (progress.BytesDone is { } done)
        {
            parts.Add(progress.BytesTotal is { } total ? $"{Bytes(done)} of {Bytes(total)}" : Bytes(done));
        }

        if (progress.Percent is { } percent)
        {
            parts.Add($"{percent.ToString("0", CultureInfo.InvariantCulture)} %");
        }

        if (progress.BytesPerSecond is { } rate)
        {
            parts.Add($"{Bytes((long)rate)}/s");
        }

        if (Format.TryTimeSpan(progress.Eta) is { } eta)
        {
            parts.Add($"ETA {Format.Duration(eta)}");
        }

        return parts.Count == 0 ? progress.Step ?? "starting" : $"{progress.Step}: {string.Join(", ", parts)}";
    }

    /// <summary>"3.6 MiB": binary units, one decimal.</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is not { } value)
        {
            return Format.Missing;
        }

        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        var scaled = (double)value;
        var unit = 0;
        while (scaled >= 1024 && unit < units.Length - 1)
        {
            scaled /= 1024;
            unit++;
        }

        return unit == 0 ? $"{value} bytes" : $"{scaled.ToString("0.0", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    private static string Milliseconds(System.Text.Json.JsonElement? span) =>
        Format.TryTimeSpan(span) is { } value ? value.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) : Format.Missing;

    private static string Short(string? id) => id is { Length: > 8 } ? id[..8] : Format.Text(id);
}
