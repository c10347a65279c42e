using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text;
using Gateway.Configuration;
using Gateway.Database;
using Gateway.Model;

namespace Gateway.Backup;

/// <summary>What pgBackRest's info says about one backup set.</summary>
public sealed record PgBackRestSet(string Label, string Type, string? Prior, long DatabaseBytes, long RepositoryBytes, string StartLsn, string StopLsn, string? GatewayBackupId);

/// <summary>
/// pgBackRest driven by the gateway: it writes pgbackrest.conf from Gateway:Backup (both nodes, so pgBackRest finds
/// the primary and can copy from the standby), runs each command as the data directories' owner, and reads the
/// results back from its JSON info. The gateway's own id goes into each backup as an annotation.
/// </summary>
public sealed partial class PgBackRest(BackupOptions options, GatewayOptions gateway, BackupPaths paths, IBackupTool tool)
{
    public const string Annotation = "gateway-backup";
    private readonly PgBackRestOptions _settings = options.PgBackRest;

    public string Stanza => _settings.Stanza;

    /// <summary>The archive_command each node needs: WAL goes to the same repository, so a restore can replay up to a restore point.</summary>
    public string ArchiveCommand => $"{_settings.Executable} --config={paths.PgBackRestConfig} --stanza={Stanza} archive-push %p";

    /// <summary>The configuration file, as the gateway writes it (pure: the tests read it).</summary>
    public string ConfigurationText()
    {
        var text = new StringBuilder();
        text.AppendLine("# Written by the gateway from Gateway:Backup at every backup; edits here are overwritten.");
        text.AppendLine("[global]");
        text.AppendLine($"repo1-path={paths.PgBackRestRepository}");
        text.AppendLine($"lock-path={paths.PgBackRestLocks}");
        // The gateway keeps each command's output in its records; a log file on a full repository must not fail a restore.
        text.AppendLine("log-level-file=off");
        text.AppendLine("start-fast=y");
        // The gateway decides retention (RetentionPolicy); pgBackRest's own, run after each backup, keeps everything.
        text.AppendLine("repo1-retention-full=9999999");
        text.AppendLine($"compress-type={_settings.Compression}");
        text.AppendLine($"process-max={_settings.ProcessMax}");
        text.AppendLine("archive-timeout=60");
        text.AppendLine();
        text.AppendLine($"[{Stanza}]");
        for (var i = 0; i < gateway.Sites.Count; i++)
        {
            var site = gateway.Sites[i];
            text.AppendLine($"pg{i + 1}-path={site.Database.DataDirectory}");
            text.AppendLine($"pg{i + 1}-port={site.Database.Port}");
            text.AppendLine($"pg{i + 1}-socket-path={_settings.SocketDirectory}");
            text.AppendLine($"pg{i + 1}-user={gateway.Database.Username}");
        }

        foreach (var line in _settings.ExtraSettings)
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }

    /// <summary>Writes the configuration (only when it changed: the repository's file system may be full) and the directories pgBackRest writes.</summary>
    public async Task PrepareAsync(CancellationToken cancellation)
    {
        Directory.CreateDirectory(paths.Repository);
        var text = ConfigurationText();
        if (!File.Exists(paths.PgBackRestConfig) || await File.ReadAllTextAsync(paths.PgBackRestConfig, cancellation) != text)
        {
            DurableFile.Replace(paths.PgBackRestConfig, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
            // Read by the nodes' archive_command, as the database's user. (The gateway runs on Linux only; the check is for the analyzer.)
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(paths.PgBackRestConfig, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        foreach (var directory in new[] { paths.PgBackRestRepository, paths.PgBackRestLocks })
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                await OwnAsync(directory, cancellation);
            }
        }
    }

    /// <summary>Gives a directory to the database's user, for pgBackRest to write (a restore target, the repository).</summary>
    public async Task OwnAsync(string directory, CancellationToken cancellation)
    {
        if (_settings.OsUser.Length > 0 && _settings.OsUser != Environment.UserName)
        {
            Require(await tool.RunAsync(new ToolCommand("chown", ["-R", $"{_settings.OsUser}:", directory]), cancellation));
        }
    }

    public async Task<string> VersionAsync(CancellationToken cancellation)
    {
        var result = Require(await tool.RunAsync(Command(["version"]), cancellation));
        return result.Output.FirstOrDefault(line => line.StartsWith("pgBackRest", StringComparison.Ordinal))?.Trim() ?? "pgBackRest (unknown version)";
    }

    /// <summary>Creates the stanza, or checks the one there matches these nodes (pgBackRest's stanza-create is idempotent).</summary>
    public async Task<string> CreateStanzaAsync(CancellationToken cancellation)
    {
        Require(await tool.RunAsync(Command(["--log-level-console=warn", "stanza-create"]), cancellation));
        return $"stanza '{Stanza}' ready in {paths.PgBackRestRepository}";
    }

    /// <summary>
    /// A backup, copying from the standby when <paramref name="fromStandby"/> (pgBackRest still starts and stops it on
    /// the primary). Progress comes from its per-file detail lines. Returns the new label.
    /// </summary>
    public async Task<string> BackupAsync(string backupId, bool fromStandby, BackupProgress progress, Action<ToolProcess> onStarted, CancellationToken cancellation)
    {
        long done = 0;
        var result = await tool.RunAsync(
            Command([
                $"--type={_settings.Type.ToString().ToLowerInvariant()}", $"--annotation={Annotation}={backupId}",
                fromStandby ? "--backup-standby" : "--no-backup-standby", "--log-level-console=detail", "backup",
            ]),
            cancellation,
            line =>
            {
                if (FileProgress().Match(line) is { Success: true } file)
                {
                    done += ParseSize(file.Groups["size"].Value, file.Groups["unit"].Value);
                    var percent = double.Parse(file.Groups["pct"].Value, CultureInfo.InvariantCulture);
                    progress.Bytes(done, percent > 0 ? (long)(done * 100 / percent) : null, percent);
                }
            },
            onStarted);
        Require(result);
        return result.Output.Select(line => NewLabel().Match(line)).FirstOrDefault(m => m.Success)?.Groups[1].Value
            ?? throw new InvalidOperationException($"pgBackRest ended without naming the new backup: {result.Failure()}");
    }

    /// <summary>Switches WAL on the primary and waits until that segment is archived: everything up to a restore point made before is then in the repository.</summary>
    public async Task<string> ArchiveCurrentWalAsync(CancellationToken cancellation)
    {
        Require(await tool.RunAsync(Command(["--log-level-console=warn", "check"]), cancellation));
        return "WAL switched and archived (pgbackrest check)";
    }

    public async Task<IReadOnlyList<PgBackRestSet>> SetsAsync(CancellationToken cancellation)
    {
        var result = Require(await tool.RunAsync(Command(["--output=json", "info"]), cancellation));
        return ParseInfo(string.Join('\n', result.Output), Stanza);
    }

    /// <summary>Reads the sets of one stanza out of <c>pgbackrest info --output=json</c>.</summary>
    public static IReadOnlyList<PgBackRestSet> ParseInfo(string json, string stanza)
    {
        using var document = JsonDocument.Parse(json);
        var sets = new List<PgBackRestSet>();
        foreach (var entry in document.RootElement.EnumerateArray().Where(e => e.GetProperty("name").GetString() == stanza))
        {
            foreach (var backup in entry.GetProperty("backup").EnumerateArray())
            {
                var info = backup.GetProperty("info");
                string? id = backup.TryGetProperty("annotation", out var annotation) && annotation.TryGetProperty(Annotation, out var value) ? value.GetString() : null;
                sets.Add(new PgBackRestSet(
                    backup.GetProperty("label").GetString()!,
                    backup.GetProperty("type").GetString()!,
                    backup.GetProperty("prior").GetString(),
                    info.GetProperty("size").GetInt64(),
                    info.GetProperty("repository").GetProperty("delta").GetInt64(),
                    backup.GetProperty("lsn").GetProperty("start").GetString()!,
                    backup.GetProperty("lsn").GetProperty("stop").GetString()!,
                    id));
            }
        }

        return sets;
    }

    /// <summary>
    /// Removes backup sets, then WAL older than the oldest full set left (keeping every full set that remains):
    /// the gateway's retention decides, pgBackRest carries it out.
    /// </summary>
    public async Task<string> ExpireAsync(IReadOnlyList<string> labels, CancellationToken cancellation)
    {
        foreach (var label in labels)
        {
            Require(await tool.RunAsync(Command(["--log-level-console=warn", $"--set={label}", "expire"]), cancellation));
        }

        var fullsLeft = (await SetsAsync(cancellation)).Count(set => set.Type == "full");
        if (fullsLeft > 0)
        {
            Require(await tool.RunAsync(Command(["--log-level-console=warn", $"--repo1-retention-full={fullsLeft}", "expire"]), cancellation));
        }

        return $"{labels.Count} set(s) expired{(labels.Count == 0 ? "" : ": " + string.Join(", ", labels))}; WAL before the oldest of {fullsLeft} full set(s) expired";
    }

    /// <summary>
    /// Writes a data directory that recovers to the restore point and then promotes or pauses. Recovery stays on the
    /// backup's timeline, so WAL a later restore pushed on another one never leads it astray; <paramref name="archiving"/>
    /// false switches archive_mode off in the copy (a drill must push nothing into the repository).
    /// </summary>
    public async Task RestoreAsync(string label, string restorePoint, string dataDirectory, string targetAction, bool archiving, CancellationToken cancellation)
    {
        var arguments = new List<string>
        {
            "--log-level-console=warn", $"--set={label}", "--type=name", $"--target={restorePoint}", $"--target-action={targetAction}",
            "--target-timeline=current", $"--pg1-path={dataDirectory}",
        };
        if (!archiving)
        {
            arguments.Add("--archive-mode=off");
        }

        arguments.Add("restore");
        Require(await tool.RunAsync(Command(arguments), cancellation));
    }

    private ToolCommand Command(IEnumerable<string> arguments) =>
        new(_settings.Executable, [$"--config={paths.PgBackRestConfig}", $"--stanza={Stanza}", .. arguments])
        {
            OsUser = _settings.OsUser,
            Environment = DatabasePassword.Environment(gateway.Database),
        };

    private static ToolResult Require(ToolResult result) => result.Succeeded ? result : throw new ToolFailedException(result);

    private static long ParseSize(string number, string unit)
    {
        var value = double.Parse(number, CultureInfo.InvariantCulture);
        var factor = unit switch { "KB" => 1L << 10, "MB" => 1L << 20, "GB" => 1L << 30, "TB" => 1L << 40, _ => 1L };
        return (long)(value * factor);
    }

    // "backup file /srv/pg/b/base/5/16391 (260.4MB, 99.65%) checksum ...", at --log-level-console=detail.
    [GeneratedRegex(@"backup file \S+ \((?<size>[\d.]+)(?<unit>[KMGT]?B), (?<pct>[\d.]+)%\)")]
    private static partial Regex FileProgress();

    [GeneratedRegex(@"new backup label = (\S+)")]
    private static partial Regex NewLabel();
}

/// <summary>The gateway's database password for a tool's environment (PGPASSWORD), never its command line.</summary>
public static class DatabasePassword
{
    public static IReadOnlyDictionary<string, string> Environment(DatabaseOptions database) =>
        System.Environment.GetEnvironmentVariable(Database.Nodes.NodeConnections.PasswordVariable) is { Length: > 0 } fromEnvironment
            ? new Dictionary<string, string> { ["PGPASSWORD"] = fromEnvironment }
            : database.PasswordFile is { Length: > 0 } file
                ? new Dictionary<string, string> { ["PGPASSWORD"] = File.ReadAllText(file).Trim() }
                : new Dictionary<string, string>();
}
