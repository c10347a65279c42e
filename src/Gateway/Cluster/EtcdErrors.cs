namespace Gateway.Cluster;

/// <summary>
/// No etcd endpoint answered in time (down, partitioned, frozen, or without a quorum). For a transaction the outcome is
/// unknown: it may have been applied by a member whose answer was lost. Re-read before deciding again.
/// </summary>
public sealed class EtcdUnavailableException(string operation, IReadOnlyList<string> failures, Exception? last = null)
    : Exception($"etcd did not answer {operation}: {string.Join("; ", failures)}", last)
{
    public string Operation { get; } = operation;

    /// <summary>One line per attempt: the endpoint and what went wrong there.</summary>
    public IReadOnlyList<string> Failures { get; } = failures;
}

/// <summary>etcd answered but refused the request (authentication, permission, a malformed request): trying again will not help.</summary>
public sealed class EtcdRefusedException(string operation, string endpoint, string reason, Exception? inner = null)
    : Exception($"etcd at {endpoint} refused {operation}: {reason}", inner)
{
    public string Reason { get; } = reason;
}

/// <summary>The session's lease no longer exists in etcd (it expired or was revoked): every key held under it is gone.</summary>
public sealed class LeaseLostException(long leaseId, string operation)
    : Exception($"lease {leaseId:x} no longer exists in etcd ({operation}): it expired or was revoked, and the keys held under it are gone")
{
    public long LeaseId { get; } = leaseId;
}

/// <summary>
/// A watch could not resume where it stopped: etcd has compacted its history past the last revision seen. Events were
/// lost; the caller must read the prefix again (<see cref="EtcdStore.ReadPrefixAsync"/>) and watch from that revision.
/// </summary>
public sealed class WatchCompactedException(string prefix, long wantedRevision, long compactRevision)
    : Exception($"the watch of '{prefix}' cannot resume at revision {wantedRevision}: etcd's history is compacted up to {compactRevision}; read the state again")
{
    public long CompactRevision { get; } = compactRevision;
}

/// <summary>The prefix in etcd belongs to another cluster or to a newer schema: the gateway must not touch it.</summary>
public sealed class ClusterIdentityException(string message) : Exception(message);

/// <summary>Another running gateway is registered with this gateway's id.</summary>
public sealed class GatewayIdInUseException(string message) : Exception(message);
