namespace Gateway.Model;

public enum AlarmSeverity
{
    /// <summary>Something is degraded and needs an operator soon; the service still runs.</summary>
    Warning,

    /// <summary>Data or availability is at risk now.</summary>
    Critical,
}

/// <summary>One alarm the gateway can raise: its key, how bad it is, and what it means in one line.</summary>
public sealed record AlarmDefinition(string Key, AlarmSeverity Severity, string Summary);

/// <summary>
/// Every alarm key <see cref="Alarms"/> accepts. Each one is a <c>gateway_alarm{alarm="key"}</c> series (0 from the
/// start, 1 while raised) and has its own rule in deploy/prometheus/alerts.yml with this severity; tests check that
/// the three agree. A key that is not listed here is refused by <see cref="Alarms.Raise"/>.
/// </summary>
public static class AlarmCatalogue
{
    public const string SiteFailoverRefused = "site-failover-refused";
    public const string DatabaseTwoPrimaries = "database-two-primaries";
    public const string DatabaseFailoverRefused = "database-failover-refused";
    public const string DatabaseSynchronousDegraded = "database-synchronous-degraded";
    public const string DatabaseNoStreamingStandby = "database-no-streaming-standby";
    public const string DatabaseRejoinFailed = "database-rejoin-failed";
    public const string SwitchHookFailed = "switch-hook-failed";
    public const string AutomaticFailoverPausedOverdue = "automatic-failover-paused-overdue";
    public const string FilestoreReplicationFailing = "filestore-replication-failing";
    public const string FilestoreReplicationNotRunning = "filestore-replication-not-running";
    public const string FilestoreDeletesHeld = "filestore-deletes-held";
    public const string FilestoreSanUnresponsive = "filestore-san-unresponsive";
    public const string TlsCertificateReloadFailed = "tls-certificate-reload-failed";
    public const string BackupFailed = "backup-failed";
    public const string BackupVerifyFailed = "backup-verify-failed";
    public const string BackupRetentionFailed = "backup-retention-failed";
    public const string ClusterWritesFenced = "cluster-writes-fenced";

    public static IReadOnlyList<AlarmDefinition> All { get; } =
    [
        new(SiteFailoverRefused, AlarmSeverity.Critical, "The active site is lost but the coordinator refused to fail over to the other one; the alarm says why."),
        new(DatabaseTwoPrimaries, AlarmSeverity.Critical, "Two database nodes accept writes (split brain): fence the one the gateway does not route to."),
        new(DatabaseFailoverRefused, AlarmSeverity.Critical, "The primary database is unreachable and an automatic promotion of the standby was refused; the alarm says why."),
        new(DatabaseSynchronousDegraded, AlarmSeverity.Warning, "Synchronous replication went asynchronous without a streaming standby: a failover now loses the commits since."),
        new(DatabaseNoStreamingStandby, AlarmSeverity.Critical, "The primary database has had no streaming standby for longer than the grace period: a failover now loses data or has nothing to promote."),
        new(DatabaseRejoinFailed, AlarmSeverity.Warning, "Rebuilding the former primary as the new primary's standby failed; the database runs without a standby until it is retried."),
        new(SwitchHookFailed, AlarmSeverity.Warning, "A hook run during the last site switch failed or timed out; the alarm names the step and the command."),
        new(AutomaticFailoverPausedOverdue, AlarmSeverity.Warning, "Automatic failover has been paused for longer than intended: losing a site now needs an operator."),
        new(FilestoreReplicationFailing, AlarmSeverity.Warning, "SAN replication fails (the replica full, unwritable or gone, the source unreadable) and is being retried."),
        new(FilestoreReplicationNotRunning, AlarmSeverity.Critical, "No SAN replicator has run for longer than the grace period: files written now exist on one site only."),
        new(FilestoreDeletesHeld, AlarmSeverity.Warning, "Deletes on the active SAN are held back from the replica instead of following; the alarm says why."),
        new(FilestoreSanUnresponsive, AlarmSeverity.Critical, "A SAN does not answer file-system calls in time: replication and the filestore link flip are stuck on it."),
        new(TlsCertificateReloadFailed, AlarmSeverity.Warning, "Replaced public TLS certificate files could not be loaded; the previous certificate stays in use until they can."),
        new(BackupFailed, AlarmSeverity.Warning, "The last backup of the database and the filestore did not succeed; earlier backups are intact."),
        new(BackupVerifyFailed, AlarmSeverity.Critical, "The last restore drill failed: a backup did not restore, or its copy failed Gateway:Backup:VerifyCommand."),
        new(BackupRetentionFailed, AlarmSeverity.Warning, "Pruning old backups after a backup failed; the repository keeps more than the retention rules allow."),
        new(ClusterWritesFenced, AlarmSeverity.Critical, "This gateway's etcd session is not trusted (etcd lost its quorum, or this gateway is cut off from it): it stops every write until the session is renewed and the current epoch read again."),
    ];

    private static readonly Dictionary<string, AlarmDefinition> ByKey = All.ToDictionary(alarm => alarm.Key, StringComparer.Ordinal);

    public static bool Contains(string key) => ByKey.ContainsKey(key);

    /// <summary>The definition of a catalogued key; an unknown key is a programming error, named in the exception.</summary>
    public static AlarmDefinition Get(string key) =>
        ByKey.GetValueOrDefault(key)
        ?? throw new ArgumentException($"alarm key '{key}' is not in the alarm catalogue (Gateway.Model.AlarmCatalogue): add it there, with its alert rule", nameof(key));
}
