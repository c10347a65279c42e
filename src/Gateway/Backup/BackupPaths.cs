using System.Security.Cryptography;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Backup;

/// <summary>Where everything of the backup feature lives, derived from Gateway:Backup and the state directory.</summary>
public sealed class BackupPaths(BackupOptions options, GatewayOptions gateway)
{
    public string Repository => Path.GetFullPath(options.RepositoryPath);

    public string PgBackRestRepository => Path.Combine(Repository, "pgbackrest");

    /// <summary>Beside the repository, not in the state directory: the nodes' archive_command and a restored node's restore_command read it as the database's user.</summary>
    public string PgBackRestConfig => Path.Combine(Repository, "pgbackrest.conf");

    /// <summary>Lock files on the local disk (a full repository must not stop a restore from taking its lock), one directory per repository.</summary>
    public string PgBackRestLocks => Path.Combine(Path.GetTempPath(), "gateway-pgbackrest-" + ShortHash(Repository));

    public string ResticRepository => Path.Combine(Repository, "restic");

    /// <summary>The backup records: StateDirectory/backups/&lt;id&gt;.json.</summary>
    public string Catalog => Path.Combine(gateway.StateDirectory, "backups");

    public string Scratch => options.ScratchPath.Length > 0 ? options.ScratchPath : Path.Combine(Catalog, "scratch");

    /// <summary>The file snapshot of a SAN: a fixed path (restic finds the previous snapshot of the same path and reads only what changed).</summary>
    public string SnapshotOf(SiteOptions site) =>
        options.SnapshotPath.Length > 0
            ? options.SnapshotPath
            : Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(site.SanPath)))!, ".gateway-backup-" + site.Id);

    private static string ShortHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
}
