using System.Globalization;
using System.Text.Json;

namespace Gateway.Backup;

/// <summary>A restic snapshot as <c>restic snapshots --json</c> lists it.</summary>
public sealed record ResticSnapshot(string Id, DateTimeOffset Time, IReadOnlyList<string> Tags)
{
    public string? GatewayBackupId => Tags.FirstOrDefault(tag => tag.StartsWith(Restic.TagPrefix, StringComparison.Ordinal))?[Restic.TagPrefix.Length..];
}

public sealed record ResticSummary(string SnapshotId, long Files, long Bytes, long AddedBytes);

/// <summary>
/// restic driven by the gateway: repository and key from Gateway:Backup (through restic's environment, never a
/// command line), snapshots tagged with the gateway's backup id and stamped with the cut's time, always of one fixed
/// path so that restic finds the previous snapshot and reads only files whose size or modification time changed.
/// </summary>
public sealed class Restic(BackupOptions options, BackupPaths paths, IBackupTool tool)
{
    public const string TagPrefix = "gateway-backup=";

    // The cut's time is given in UTC, and restic reads --time in its local zone.
    private Dictionary<string, string> Environment => new()
    {
        ["RESTIC_REPOSITORY"] = paths.ResticRepository,
        ["RESTIC_PASSWORD_FILE"] = options.PasswordFile,
        ["TZ"] = "UTC",
    };

    public async Task<string> VersionAsync(CancellationToken cancellation)
    {
        var result = Require(await tool.RunAsync(Command(["version"]), cancellation));
        var line = result.Output.FirstOrDefault(l => l.StartsWith("restic", StringComparison.Ordinal)) ?? "restic (unknown version)";
        return string.Join(' ', line.Split(' ').Take(2));
    }

    /// <summary>Initialises the repository the first time (restic refuses to initialise one twice, so its config file says whether it exists).</summary>
    public async Task<string> InitAsync(CancellationToken cancellation)
    {
        if (File.Exists(Path.Combine(paths.ResticRepository, "config")))
        {
            return $"repository {paths.ResticRepository} exists";
        }

        Require(await tool.RunAsync(Command(["init"]), cancellation));
        return $"repository {paths.ResticRepository} initialised";
    }

    /// <summary>Backs up the directory's contents (it becomes the snapshot's root), reporting restic's own bytes, percentage and ETA.</summary>
    public async Task<ResticSummary> BackupAsync(string directory, string backupId, DateTimeOffset cutTime, BackupProgress progress, Action<ToolProcess> onStarted, CancellationToken cancellation)
    {
        ResticSummary? summary = null;
        var command = Command([
            "backup", "--json", "--host", "gateway", "--tag", TagPrefix + backupId,
            "--time", cutTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            // Making the hard-link tree changes every file's ctime; size and modification time still tell a changed file.
            "--ignore-ctime", ".",
        ]) with { WorkingDirectory = directory };
        var result = await tool.RunAsync(command, cancellation, line => summary = ReadBackupLine(line, progress) ?? summary, onStarted);
        Require(result);
        if (summary is null)
        {
            throw new InvalidOperationException($"restic ended without a summary: {result.Failure()}");
        }

        // The summary names the snapshot by its short id; the record keeps the full one.
        var snapshot = (await SnapshotsAsync(cancellation)).Single(s => s.GatewayBackupId == backupId && s.Id.StartsWith(summary.SnapshotId, StringComparison.Ordinal));
        return summary with { SnapshotId = snapshot.Id };
    }

    private static ResticSummary? ReadBackupLine(string line, BackupProgress progress)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            switch (root.TryGetProperty("message_type", out var type) ? type.GetString() : null)
            {
                case "status":
                    var done = root.TryGetProperty("bytes_done", out var d) ? d.GetInt64() : 0;
                    long? total = root.TryGetProperty("total_bytes", out var t) ? t.GetInt64() : null;
                    double? percent = root.TryGetProperty("percent_done", out var p) ? p.GetDouble() * 100 : null;
                    TimeSpan? eta = root.TryGetProperty("seconds_remaining", out var s) ? TimeSpan.FromSeconds(s.GetInt64()) : null;
                    progress.Bytes(done, total, percent, eta);
                    return null;
                case "summary":
                    return new ResticSummary(
                        root.GetProperty("snapshot_id").GetString()!,
                        root.GetProperty("total_files_processed").GetInt64(),
                        root.GetProperty("total_bytes_processed").GetInt64(),
                        root.GetProperty("data_added").GetInt64());
                default:
                    return null;
            }
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <param name="noLock">For reads only: a restore from a full repository cannot write restic's lock file, and need not.</param>
    public async Task<IReadOnlyList<ResticSnapshot>> SnapshotsAsync(CancellationToken cancellation, bool noLock = false)
    {
        var result = Require(await tool.RunAsync(Command(noLock ? ["--no-lock", "snapshots", "--json"] : ["snapshots", "--json"]), cancellation));
        return ParseSnapshots(result.Output.FirstOrDefault(line => line.StartsWith('[')) ?? "[]");
    }

    public static IReadOnlyList<ResticSnapshot> ParseSnapshots(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(snapshot => new ResticSnapshot(
            snapshot.GetProperty("id").GetString()!,
            snapshot.GetProperty("time").GetDateTimeOffset(),
            snapshot.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array ? tags.EnumerateArray().Select(tag => tag.GetString()!).ToList() : []))
            .ToList();
    }

    /// <summary>Forgets the snapshots and prunes the data only they referenced.</summary>
    public async Task<string> ForgetAsync(IReadOnlyList<string> snapshotIds, CancellationToken cancellation)
    {
        if (snapshotIds.Count == 0)
        {
            return "no snapshot to forget";
        }

        Require(await tool.RunAsync(Command(["forget", "--prune", .. snapshotIds]), cancellation));
        return $"{snapshotIds.Count} snapshot(s) forgotten and pruned: {string.Join(", ", snapshotIds.Select(id => id[..Math.Min(8, id.Length)]))}";
    }

    /// <summary>What restic itself would keep by these rules (a dry run): a check of the gateway's own decision.</summary>
    public async Task<IReadOnlyList<string>> WouldKeepAsync(RetentionPolicy policy, CancellationToken cancellation)
    {
        var result = Require(await tool.RunAsync(Command([
            "forget", "--dry-run", "--json", "--group-by", "", $"--keep-last={policy.KeepLast}", $"--keep-daily={policy.KeepDaily}", $"--keep-weekly={policy.KeepWeekly}",
        ]), cancellation));
        using var document = JsonDocument.Parse(result.Output.FirstOrDefault(line => line.StartsWith('[')) ?? "[]");
        return document.RootElement.EnumerateArray()
            .SelectMany(group => group.TryGetProperty("keep", out var keep) && keep.ValueKind == JsonValueKind.Array ? keep.EnumerateArray() : [])
            .Select(snapshot => snapshot.GetProperty("id").GetString()!)
            .ToList();
    }

    public async Task RestoreAsync(string snapshotId, string target, CancellationToken cancellation)
    {
        Require(await tool.RunAsync(Command(["--no-lock", "restore", snapshotId, "--target", target]), cancellation));
    }

    /// <summary>Removes locks a killed restic left (restic removes only those whose process is gone).</summary>
    public async Task<string> UnlockAsync(CancellationToken cancellation)
    {
        var result = await tool.RunAsync(Command(["unlock"]), cancellation);
        return result.Succeeded ? "stale locks removed" : result.Failure();
    }

    private ToolCommand Command(IEnumerable<string> arguments) =>
        new(options.Restic.Executable, ["--no-cache", .. arguments]) { Environment = Environment };

    private static ToolResult Require(ToolResult result) => result.Succeeded ? result : throw new ToolFailedException(result);
}
