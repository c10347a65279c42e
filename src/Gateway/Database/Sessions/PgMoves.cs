using System.Text;

namespace Gateway.Database.Sessions;

/// <summary>How one session's move ended: on a new node (and how long its next request was held), or closed with a reason.</summary>
public sealed record PgMoveOutcome(string Session, string? MovedTo, TimeSpan? Held, string? ClosedBecause)
{
    public override string ToString() => MovedTo is { } site
        ? $"{Session} -> {site}{(Held is { } held ? $" (next request held {held.TotalMilliseconds:0} ms)" : " (idle)")}"
        : $"{Session} closed: {ClosedBecause}";
}

/// <summary>
/// One session's move from the request (a fence, or its node lost) to its end: when it left its node (at a
/// transaction boundary, or closed), and where it landed.
/// </summary>
public sealed class PgMoveTicket(string session, bool planned, DateTimeOffset requestedAt)
{
    private readonly TaskCompletionSource<TimeSpan> _leftNode = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<PgMoveOutcome> _landed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Session { get; } = session;

    /// <summary>Planned: the old node still answers, so the session is asked what it holds before it leaves.</summary>
    public bool Planned { get; } = planned;

    public DateTimeOffset RequestedAt { get; } = requestedAt;

    /// <summary>Set when a fence asked for the move (not only the loss of the node's connection).</summary>
    public bool RequestedByFence { get; set; }

    /// <summary>Completes when the session no longer runs on its old node: how long after the request it got there.</summary>
    public Task<TimeSpan> LeftNode => _leftNode.Task;

    public Task<PgMoveOutcome> Landed => _landed.Task;

    public void Left(DateTimeOffset at) => _leftNode.TrySetResult(at - RequestedAt);

    public void Moved(string site, TimeSpan? held, DateTimeOffset at)
    {
        Left(at);
        _landed.TrySetResult(new(Session, site, held, null));
    }

    public void Closed(string why, DateTimeOffset at)
    {
        Left(at);
        _landed.TrySetResult(new(Session, null, null, why));
    }
}

/// <summary>The sessions one fence asked to move, for the promotion report.</summary>
public sealed class PgMoveBatch(string site, IReadOnlyList<PgMoveTicket> tickets)
{
    /// <summary>At most this many moved sessions are named in the report; closed ones are always named.</summary>
    public const int NamedMoves = 50;

    public string Site { get; } = site;

    public IReadOnlyList<PgMoveTicket> Tickets { get; } = tickets;

    /// <summary>What the fence did: how many sessions left the node at their boundary and how fast, how many of them were closed there, how many were cut.</summary>
    public string FenceSentence(int cut)
    {
        var left = Tickets.Where(t => t.LeftNode.IsCompletedSuccessfully).ToList();
        var closed = Tickets.Count(t => t.Landed.IsCompletedSuccessfully && t.Landed.Result.MovedTo is null);
        var slowest = left.Count > 0 ? $" (the last {left.Max(t => t.LeftNode.Result).TotalMilliseconds:0} ms after the fence)" : "";
        return $"{left.Count} session(s) left {Site} at their transaction boundary{slowest}, {closed} of them closed (see the step moving them); {cut} gateway session(s) cut";
    }

    /// <summary>Waits (bounded) for every session to land or close, then lists them.</summary>
    public async Task<string> LandingSentenceAsync(TimeSpan bound, TimeProvider time, CancellationToken cancellation)
    {
        try
        {
            await Task.WhenAll(Tickets.Select(t => t.Landed)).WaitAsync(bound, time, cancellation);
        }
        catch (TimeoutException)
        {
            // Reported below as still moving.
        }

        var outcomes = Tickets.Where(t => t.Landed.IsCompletedSuccessfully).Select(t => t.Landed.Result).ToList();
        var moved = outcomes.Where(o => o.MovedTo is not null).ToList();
        var closed = outcomes.Where(o => o.MovedTo is null).ToList();
        var pending = Tickets.Count - outcomes.Count;
        var held = moved.Where(o => o.Held is not null).Select(o => o.Held!.Value).ToList();
        var text = new StringBuilder($"{moved.Count} of {Tickets.Count} session(s) moved");
        if (held.Count > 0)
        {
            text.Append($", {held.Count} with a request held (at most {held.Max().TotalMilliseconds:0} ms)");
        }

        text.Append($"; {closed.Count} closed; {pending} still moving");
        if (moved.Count > 0)
        {
            text.Append($". Moved: {string.Join(", ", moved.Take(NamedMoves))}{(moved.Count > NamedMoves ? $" and {moved.Count - NamedMoves} more" : "")}");
        }

        if (closed.Count > 0)
        {
            text.Append($". Closed: {string.Join("; ", closed)}");
        }

        return text.ToString();
    }
}
