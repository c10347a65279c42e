using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Database.Sessions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Gateway.Database;

/// <summary>
/// The open client sessions of the PG endpoints, by the node they run on, so a fence can cut them or, for movable
/// sessions of the write endpoint, move them to the next primary at their transaction boundary.
/// </summary>
public sealed class PgSessions(IOptions<GatewayOptions> options, TimeProvider time)
{
    /// <summary>After the deadline's end requests, how long sessions get to deliver the error before they are cut.</summary>
    private static readonly TimeSpan EndGrace = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<ConnectionContext, Registration> _sessions = new();
    private readonly DatabaseOptions _options = options.Value.Database;
    private PgMoveBatch? _batch;

    public int Count(string siteId) => _sessions.Values.Count(registration => registration.Site == siteId);

    public IPgSessionRegistration Register(ConnectionContext client, string siteId, PgMovableSession? movable = null)
    {
        var registration = new Registration(this, client, siteId, movable);
        _sessions[client] = registration;
        return registration;
    }

    /// <summary>Aborts every session running on the node, movable ones included; returns how many there were.</summary>
    public int CloseAll(string siteId, string reason)
    {
        var closed = 0;
        foreach (var registration in _sessions.Values.Where(r => r.Site == siteId))
        {
            registration.Client.Abort(new ConnectionAbortedException(reason));
            closed++;
        }

        return closed;
    }

    /// <summary>
    /// Takes every session off a node being fenced (its routes already closed). Pass-through sessions are cut.
    /// Movable ones, planned: each finishes its transaction and leaves at its boundary, asked what it holds, within
    /// Database:SessionMoveTimeout; one still in a transaction then is ended with an error, and the wait ends once
    /// all are off. Unplanned (the node is lost): idle ones leave now, the others are ended at once. Returns the
    /// fence's sentence for the promotion report; the moves themselves finish once a primary is designated
    /// (<see cref="ReportMovesAsync"/>).
    /// </summary>
    public async Task<string> FenceAsync(string siteId, bool planned, CancellationToken cancellation)
    {
        var cut = 0;
        var moving = new List<(PgMovableSession Session, PgMoveTicket Ticket)>();
        foreach (var registration in _sessions.Values.Where(r => r.Site == siteId))
        {
            if (registration.Movable is { } session)
            {
                moving.Add((session, planned
                    ? session.RequestMove(planned: true)
                    : session.EndUnlessIdle(planned: false, $"gateway: the primary (site {siteId}) was lost while the session was in a transaction; what it had not committed is lost, and its last request is not repeated", PgSessionCloseReason.LostInRequest)));
            }
            else
            {
                registration.Client.Abort(new ConnectionAbortedException($"site {siteId} fenced by the gateway"));
                cut++;
            }
        }

        // A batch left over from a promotion that was rolled back is not this one's to report.
        var batch = moving.Count == 0 ? null : new PgMoveBatch(siteId, moving.Select(m => m.Ticket).ToList());
        Volatile.Write(ref _batch, batch);
        if (batch is null)
        {
            return $"{cut} gateway session(s) cut";
        }

        if (planned)
        {
            cut += await DrainAsync(siteId, moving, cancellation);
        }

        return batch.FenceSentence(cut);
    }

    /// <summary>True when the last fence left sessions moving whose outcome the promotion report has not listed yet.</summary>
    public bool HasMovesToReport => Volatile.Read(ref _batch) is not null;

    /// <summary>Waits (at most Database:HoldConnectionsFor) for the sessions of the last fence to land on the new primary or close, and lists them.</summary>
    public async Task<string> ReportMovesAsync(CancellationToken cancellation)
    {
        if (Interlocked.Exchange(ref _batch, null) is not { } batch)
        {
            return "no session was moving";
        }

        return await batch.LandingSentenceAsync(_options.HoldConnectionsFor + EndGrace, time, cancellation);
    }

    /// <summary>Waits for every session to leave the node at a boundary; ends those still busy at the deadline, cuts those that then do not end. Returns how many were cut.</summary>
    private async Task<int> DrainAsync(string siteId, List<(PgMovableSession Session, PgMoveTicket Ticket)> moving, CancellationToken cancellation)
    {
        var allLeft = Task.WhenAll(moving.Select(m => m.Ticket.LeftNode));
        try
        {
            await allLeft.WaitAsync(_options.SessionMoveTimeout, time, cancellation);
            return 0;
        }
        catch (TimeoutException)
        {
            // Some are still in a transaction: ended below.
        }

        var error = $"gateway: the session was still in a transaction {_options.SessionMoveTimeout.TotalSeconds:0.#} s after the primary began to move away from site {siteId} " +
            "(Database:SessionMoveTimeout), so it was ended; what it had not committed is rolled back; reconnect";
        foreach (var (session, ticket) in moving.Where(m => !m.Ticket.LeftNode.IsCompleted))
        {
            session.EndUnlessIdle(planned: true, error, PgSessionCloseReason.MoveTimeout);
        }

        try
        {
            await allLeft.WaitAsync(EndGrace, time, cancellation);
            return 0;
        }
        catch (TimeoutException)
        {
            // A client that does not read its error (its socket full) must not hold the switch: cut.
            var stuck = moving.Where(m => !m.Ticket.LeftNode.IsCompleted).ToList();
            foreach (var (session, ticket) in stuck)
            {
                session.Abort($"site {siteId} fenced by the gateway");
                ticket.Closed("cut: it did not take its error within a second", time.GetUtcNow());
            }

            return stuck.Count;
        }
    }

    private sealed class Registration(PgSessions owner, ConnectionContext client, string site, PgMovableSession? movable) : IPgSessionRegistration
    {
        private volatile string _site = site;

        public ConnectionContext Client { get; } = client;

        public PgMovableSession? Movable { get; } = movable;

        public string Site => _site;

        public void MoveTo(string site) => _site = site;

        public void Dispose() => owner._sessions.TryRemove(new KeyValuePair<ConnectionContext, Registration>(Client, this));
    }
}
