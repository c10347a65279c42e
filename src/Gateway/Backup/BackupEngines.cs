using Gateway.Database.Nodes;
using Gateway.Model;

namespace Gateway.Backup;

/// <summary>Gets both engines ready for any operation: configuration written, archiving pointed at the repository, stanza and repository created; reports the tools' versions.</summary>
public sealed class BackupEngines(PgBackRest pgBackRest, Restic restic, NodeConnections nodes, SiteTopology topology, BackupOptions options, BackupPaths paths)
{
    public PgBackRest PgBackRest { get; } = pgBackRest;

    public Restic Restic { get; } = restic;

    /// <summary>The versions, as recorded in every backup: "pgBackRest 2.45", "restic 0.14.0".</summary>
    public (string PgBackRest, string Restic) Versions { get; private set; } = ("", "");

    /// <summary>For a backup: everything, and archiving must work on the primary. Returns the sentence for the journal.</summary>
    public async Task<string> PrepareForBackupAsync(string primary, CancellationToken cancellation)
    {
        var versions = await PrepareAsync(cancellation);
        if (RepositorySpace() is var (free, total) && free < options.MinFreeSpace)
        {
            throw new BackupRefusedException(
                $"the repository's file system is full: {free} bytes free of {total} at {paths.Repository}, less than Gateway:Backup:MinFreeSpace ({options.MinFreeSpace}); " +
                "earlier backups are intact: make room (gatewayctl backup prune) or move the repository");
        }

        var notes = new List<string>();
        foreach (var site in topology.Sites)
        {
            try
            {
                if (await BackupSql.EnsureArchivingAsync(nodes.For(site.Id), site.Id, PgBackRest.ArchiveCommand, cancellation) is { } problem)
                {
                    if (site.Id == primary)
                    {
                        throw new BackupRefusedException(problem);
                    }

                    notes.Add(problem);
                }
            }
            catch (Exception e) when (site.Id != primary && e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
            {
                notes.Add($"site {site.Id}'s database unreachable, its archive_command not checked ({e.Message})");
            }
        }

        var stanza = await PgBackRest.CreateStanzaAsync(cancellation);
        var repository = await Restic.InitAsync(cancellation);
        return $"{versions}; archive_command set on the nodes; {stanza}; {repository}{(notes.Count == 0 ? "" : "; " + string.Join("; ", notes))}";
    }

    /// <summary>Free and total bytes of the repository's file system, as statvfs says.</summary>
    public (long Free, long Total) RepositorySpace()
    {
        var drive = new DriveInfo(paths.Repository);
        return (drive.AvailableFreeSpace, drive.TotalSize);
    }

    /// <summary>For restores and prunes: the configuration and the versions (nothing is written to the repository).</summary>
    public async Task<string> PrepareAsync(CancellationToken cancellation)
    {
        await PgBackRest.PrepareAsync(cancellation);
        Versions = (await PgBackRest.VersionAsync(cancellation), await Restic.VersionAsync(cancellation));
        return $"{Versions.PgBackRest}, {Versions.Restic}";
    }
}
