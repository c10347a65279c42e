namespace Gateway.Database;

public enum DatabaseEndpointRole
{
    /// <summary>Forwards to the active site's node, the primary: the only path services have to write.</summary>
    Write,

    /// <summary>Forwards to the other site's node, the streaming standby: read-only queries and replication checks.</summary>
    Read,
}
