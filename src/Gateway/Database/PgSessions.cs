using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Gateway.Database;

/// <summary>The open client sessions of the PG endpoints, by the node they are forwarded to, so a fence can cut them.</summary>
public sealed class PgSessions
{
    private readonly ConcurrentDictionary<ConnectionContext, string> _sessions = new();

    public int Count(string siteId) => _sessions.Count(pair => pair.Value == siteId);

    public IDisposable Register(ConnectionContext client, string siteId)
    {
        _sessions[client] = siteId;
        return new Registration(this, client);
    }

    /// <summary>Aborts every session forwarded to the node; returns how many there were.</summary>
    public int CloseAll(string siteId, string reason)
    {
        var closed = 0;
        foreach (var (client, site) in _sessions)
        {
            if (site == siteId)
            {
                client.Abort(new ConnectionAbortedException(reason));
                closed++;
            }
        }

        return closed;
    }

    private sealed class Registration(PgSessions owner, ConnectionContext client) : IDisposable
    {
        public void Dispose() => owner._sessions.TryRemove(client, out _);
    }
}
