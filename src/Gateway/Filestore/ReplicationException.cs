namespace Gateway.Filestore;

public enum ReplicaSide
{
    Source,
    Target,
}

/// <summary>Replication of a path failed on one side; retried with backoff, and raised as an alarm while it lasts.</summary>
public sealed class ReplicationException(ReplicaSide side, string message, Exception? inner = null) : IOException(message, inner)
{
    public ReplicaSide Side { get; } = side;
}
