using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Backup;

/// <summary>
/// Consistent backups of the database and the filestore together: the <c>Gateway:Backup</c> section. Off while
/// <see cref="RepositoryPath"/> is empty. The gateway writes pgBackRest's configuration and restic's environment from
/// these settings; the operator never edits either tool's files.
/// </summary>
public sealed class BackupOptions
{
    /// <summary>Directory of both repositories (pgbackrest/ and restic/ under it); empty turns backups off.</summary>
    public string RepositoryPath { get; set; } = "";

    /// <summary>File holding the restic repository's key. Without it the file backups cannot be read: keep a copy away from this host.</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>Writes (HTTP and new PG write-endpoint connections) are held at most this long for the consistent cut; past it the backup gives up and releases them.</summary>
    public TimeSpan MaxHold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>"daily HH:MM" (the gateway host's local time) or "every N[m|h|d]" ("every 6h"); empty: only on request.</summary>
    public string Schedule { get; set; } = "";

    public RetentionOptions Retention { get; set; } = new();

    /// <summary>
    /// Where the snapshot of the replica SAN is made for restic to read: a hard-link tree, so on the SAN's own file
    /// system. Empty: ".gateway-backup-&lt;site&gt;" beside the replica SAN directory.
    /// </summary>
    public string SnapshotPath { get; set; } = "";

    /// <summary>
    /// Instead of the hard-link tree: a command (run by /bin/sh -c during the hold, bounded by MaxHold) that makes
    /// {snapshot} an image of {san}, e.g. an LVM, ZFS or btrfs snapshot mounted there.
    /// </summary>
    public string SnapshotCommand { get; set; } = "";

    /// <summary>With SnapshotCommand: the command that releases that snapshot once restic has read it.</summary>
    public string ReleaseSnapshotCommand { get; set; } = "";

    /// <summary>
    /// The restore drill's check, run by /bin/sh -c against the restored copy with PGHOST, PGPORT, PGUSER,
    /// GATEWAY_RESTORE_PGDATA, GATEWAY_RESTORE_FILES and GATEWAY_BACKUP_ID set; exit 0 passes. Empty: the drill checks
    /// that the database recovers to the restore point and answers, and that the files restore.
    /// </summary>
    public string VerifyCommand { get; set; } = "";

    /// <summary>Past this the VerifyCommand's process group is killed and the drill fails.</summary>
    public TimeSpan VerifyTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Where restore drills put their throw-away copy; empty: StateDirectory/backups/scratch.</summary>
    public string ScratchPath { get; set; } = "";

    /// <summary>
    /// A backup does not start while the repository's file system has less free than this (bytes), and says so,
    /// rather than fill it to the last byte and fail with whatever a tool makes of that (pgBackRest waits out its
    /// archive-timeout when a WAL segment cannot be written).
    /// </summary>
    public long MinFreeSpace { get; set; } = 256L * 1024 * 1024;

    /// <summary>Published as gateway_backup_max_age_seconds: the alert fires when the last good backup is older.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(26);

    /// <summary>Published as gateway_backup_verify_max_age_seconds: the alert fires when the last passed restore drill is older.</summary>
    public TimeSpan MaxVerifyAge { get; set; } = TimeSpan.FromDays(8);

    public PgBackRestOptions PgBackRest { get; set; } = new();

    public ResticOptions Restic { get; set; } = new();

    public bool Enabled => RepositoryPath.Length > 0;

    public const string SectionKey = $"{GatewayOptions.SectionName}:Backup";

}

/// <summary>
/// Which backups to keep, applied to both engines together: the same rules as restic's --keep-last, --keep-daily and
/// --keep-weekly (a backup is kept when any rule keeps it), decided once by the gateway and carried out by id in both.
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>The newest N backups.</summary>
    public int KeepLast { get; set; } = 7;

    /// <summary>The newest backup of each of the last D days that have one (UTC days).</summary>
    public int KeepDaily { get; set; } = 7;

    /// <summary>The newest backup of each of the last W ISO weeks that have one.</summary>
    public int KeepWeekly { get; set; } = 4;

    public RetentionPolicy ToPolicy() => new(KeepLast, KeepDaily, KeepWeekly);

    /// <summary>All zero would delete every backup at the next prune: refused.</summary>
    public string? Problem() => ToPolicy().Problem();

    public IEnumerable<(string Name, int Value)> NegativeKeys() =>
        new[] { (Name: nameof(KeepLast), Value: KeepLast), (Name: nameof(KeepDaily), Value: KeepDaily), (Name: nameof(KeepWeekly), Value: KeepWeekly) }.Where(rule => rule.Value < 0);
}

public enum PgBackRestBackupType
{
    /// <summary>Every file, each time: each backup restores on its own.</summary>
    Full,

    /// <summary>Files changed since the last full backup (which it needs, and retention keeps).</summary>
    Diff,

    /// <summary>Files changed since the last backup of any type (which it needs, and retention keeps).</summary>
    Incr,
}

public sealed class PgBackRestOptions
{
    /// <summary>The stanza (pgBackRest's name for this cluster) in the repository.</summary>
    public string Stanza { get; set; } = "gateway";

    public PgBackRestBackupType Type { get; set; } = PgBackRestBackupType.Full;

    /// <summary>The directory of the nodes' Unix sockets (unix_socket_directories): pgBackRest talks to local nodes only through them.</summary>
    public string SocketDirectory { get; set; } = "/var/run/postgresql";

    /// <summary>The operating-system user that owns the data directories; pgBackRest runs as it (through runuser when the gateway runs as root). Empty: as the gateway's own user.</summary>
    public string OsUser { get; set; } = "postgres";

    public string Executable { get; set; } = "pgbackrest";

    /// <summary>compress-type: zst, lz4, gz, bz2 or none.</summary>
    public string Compression { get; set; } = "zst";

    /// <summary>process-max: files copied and compressed in parallel.</summary>
    public int ProcessMax { get; set; } = 2;

    /// <summary>
    /// More lines for the stanza's section of the generated pgbackrest.conf ("key=value"), for what the gateway does
    /// not set itself, e.g. pg2-host for a standby on another host.
    /// </summary>
    public List<string> ExtraSettings { get; set; } = [];

}

public sealed class ResticOptions
{
    public string Executable { get; set; } = "restic";
}

/// <summary>
/// The rules of <c>Gateway:Backup</c>, all hand-written because every one applies only while backups are on (a section
/// left off is not checked, schedule included), and some need other sections (the coordinator's MaxHoldTime, the
/// sites' data directories) from <paramref name="gateway"/>.
/// </summary>
public sealed class BackupOptionsRules(GatewayOptions gateway) : IValidateOptions<BackupOptions>
{
    private static readonly string[] Compressions = ["zst", "lz4", "gz", "bz2", "none"];

    public ValidateOptionsResult Validate(string? name, BackupOptions options) => Problems(name, options).ToResult();

    private IEnumerable<ConfigurationError> Problems(string? name, BackupOptions options)
    {
        var key = name ?? BackupOptions.SectionKey;
        if (!options.Enabled)
        {
            yield break;
        }

        foreach (var (property, path) in new[] { (nameof(BackupOptions.RepositoryPath), options.RepositoryPath), (nameof(BackupOptions.SnapshotPath), options.SnapshotPath), (nameof(BackupOptions.ScratchPath), options.ScratchPath) })
        {
            if (path.Length > 0 && !Path.IsPathFullyQualified(path))
            {
                yield return new($"{key}:{property}", $"'{path}' must be an absolute path");
            }
        }

        if (options.PasswordFile.Length == 0)
        {
            yield return new($"{key}:{nameof(BackupOptions.PasswordFile)}", "is required with RepositoryPath: the file holding the restic repository's key");
        }
        else if (!Path.IsPathFullyQualified(options.PasswordFile))
        {
            yield return new($"{key}:{nameof(BackupOptions.PasswordFile)}", "must be the absolute path of a file holding the key (the value is not shown: it may be the key itself)");
        }
        else if (!File.Exists(options.PasswordFile) || new FileInfo(options.PasswordFile).Length == 0)
        {
            yield return new($"{key}:{nameof(BackupOptions.PasswordFile)}", $"key file '{options.PasswordFile}' does not exist or is empty");
        }

        foreach (var (property, value) in new[] { (nameof(BackupOptions.MaxHold), options.MaxHold), (nameof(BackupOptions.VerifyTimeout), options.VerifyTimeout), (nameof(BackupOptions.MaxAge), options.MaxAge), (nameof(BackupOptions.MaxVerifyAge), options.MaxVerifyAge) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new($"{key}:{property}", $"{value} must be greater than zero");
            }
        }

        if (options.MaxHold > TimeSpan.FromSeconds(30))
        {
            yield return new($"{key}:{nameof(BackupOptions.MaxHold)}", $"{options.MaxHold} is longer than writes may wait (at most 00:00:30; the coordinator's MaxHoldTime refuses held writes after {gateway.Coordinator.MaxHoldTime})");
        }
        else if (options.MaxHold >= gateway.Coordinator.MaxHoldTime)
        {
            yield return new($"{key}:{nameof(BackupOptions.MaxHold)}", $"{options.MaxHold} must be shorter than Gateway:Coordinator:MaxHoldTime ({gateway.Coordinator.MaxHoldTime}), or held writes are refused before the backup releases them");
        }

        if (options.MinFreeSpace < 0)
        {
            yield return new($"{key}:{nameof(BackupOptions.MinFreeSpace)}", $"{options.MinFreeSpace} must be 0 (no check) or more bytes");
        }

        if (BackupSchedule.TryParse(options.Schedule, out _) is { } scheduleProblem)
        {
            yield return new($"{key}:{nameof(BackupOptions.Schedule)}", scheduleProblem);
        }

        if (options.Retention.Problem() is { } retentionProblem)
        {
            yield return new($"{key}:{nameof(BackupOptions.Retention)}", retentionProblem);
        }

        foreach (var negative in options.Retention.NegativeKeys())
        {
            yield return new($"{key}:{nameof(BackupOptions.Retention)}:{negative.Name}", $"{negative.Value} must be 0 or more");
        }

        if (options.ReleaseSnapshotCommand.Length > 0 && options.SnapshotCommand.Length == 0)
        {
            yield return new($"{key}:{nameof(BackupOptions.ReleaseSnapshotCommand)}", "has nothing to release without SnapshotCommand");
        }

        for (var s = 0; s < gateway.Sites.Count; s++)
        {
            if (gateway.Sites[s].Database.DataDirectory.Length == 0)
            {
                yield return new($"{GatewayOptions.SectionName}:Sites:{s}:Database:DataDirectory", "is required with Backup:RepositoryPath: pgBackRest reads the data directories");
            }
        }

        foreach (var problem in PgBackRestProblems(options.PgBackRest, $"{key}:{nameof(BackupOptions.PgBackRest)}"))
        {
            yield return problem;
        }

        if (string.IsNullOrWhiteSpace(options.Restic.Executable))
        {
            yield return new($"{key}:{nameof(BackupOptions.Restic)}:{nameof(ResticOptions.Executable)}", "is required");
        }
    }

    private static IEnumerable<ConfigurationError> PgBackRestProblems(PgBackRestOptions options, string key)
    {
        if (options.Stanza.Length == 0 || !options.Stanza.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            yield return new($"{key}:{nameof(PgBackRestOptions.Stanza)}", $"'{options.Stanza}' must be letters, digits, '-' or '_'");
        }

        if (!Enum.IsDefined(options.Type))
        {
            yield return new($"{key}:{nameof(PgBackRestOptions.Type)}", $"'{options.Type}' is not one of {string.Join(", ", Enum.GetNames<PgBackRestBackupType>())}");
        }

        if (!Path.IsPathFullyQualified(options.SocketDirectory))
        {
            yield return new($"{key}:{nameof(PgBackRestOptions.SocketDirectory)}", $"'{options.SocketDirectory}' must be an absolute path (pgBackRest reaches local nodes only through their Unix sockets)");
        }

        if (!Compressions.Contains(options.Compression))
        {
            yield return new($"{key}:{nameof(PgBackRestOptions.Compression)}", $"'{options.Compression}' is not one of {string.Join(", ", Compressions)}");
        }

        if (options.ProcessMax is < 1 or > 64)
        {
            yield return new($"{key}:{nameof(PgBackRestOptions.ProcessMax)}", $"{options.ProcessMax} must be between 1 and 64");
        }

        if (string.IsNullOrWhiteSpace(options.Executable))
        {
            yield return new($"{key}:{nameof(PgBackRestOptions.Executable)}", "is required");
        }

        for (var i = 0; i < options.ExtraSettings.Count; i++)
        {
            if (options.ExtraSettings[i].IndexOf('=') < 1 || options.ExtraSettings[i].Contains('\n'))
            {
                yield return new($"{key}:{nameof(PgBackRestOptions.ExtraSettings)}:{i}", $"'{options.ExtraSettings[i]}' is not one 'key=value' line");
            }
        }
    }
}
