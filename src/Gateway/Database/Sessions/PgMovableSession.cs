using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Gateway.Database.Sessions;

/// <summary>
/// One client session of the write endpoint in Movable mode. The gateway reads the protocol in both directions
/// (<see cref="PgSessionState"/>) and passes every message on, except that, once a move is asked for (a fence of
/// its node, or the node lost while the session was idle), the session is held at its next transaction boundary,
/// logged in to the new primary as its client (<see cref="PgSessionMover.LoginAsync"/>), given back its settings
/// and SQL-level prepared statements, and carries on there; its protocol-level prepared statements are prepared
/// again just before the first Bind or Describe that needs them. Nothing the client sent is ever sent twice: only a
/// request that had not left the gateway waits for the new node. A session that cannot move, or that is still in a
/// transaction when the time runs out, gets a FATAL error saying why. Three tasks at most: the client side, the
/// server side (which also logs in, moves and writes errors), and a cancel request's.
/// </summary>
public sealed partial class PgMovableSession
{
    /// <summary>Asks the session, at a transaction boundary, what it holds that no new node can be given.</summary>
    public const string UnmovableStateQuery = """
        SELECT exists(SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.pg_my_temp_schema()),
               exists(SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid()),
               exists(SELECT 1 FROM pg_catalog.pg_listening_channels()),
               exists(SELECT 1 FROM pg_catalog.pg_cursors WHERE is_holdable),
               session_user::text, current_user::text
        """;

    private static long _lastId;

    private readonly ConnectionContext _client;
    private readonly PgSessionMover _mover;
    private readonly PgSessionState _state;
    private readonly PgLoginRecord _login = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _end = new();
    private readonly SemaphoreSlim _clientWrite = new(1, 1);
    private PgServerLink? _link;
    private PgMoveTicket? _move;
    private DateTimeOffset? _heldSince;
    private TaskCompletionSource<bool>? _attached;
    private EndRequest? _endRequest;
    private bool _ended;
    private bool _serverSideRunning;
    private (int ProcessId, int Secret)? _cancelKey;
    private IPgSessionRegistration? _registration;

    public PgMovableSession(ConnectionContext client, PgStartupPacket startup, PgSessionMover mover)
    {
        _client = client;
        _mover = mover;
        _state = new PgSessionState(startup);
        Id = Interlocked.Increment(ref _lastId);
        Description = $"#{Id} {startup.User}@{startup.Database}{(startup.ApplicationName is { Length: > 0 } application ? $" ({application})" : "")} from {client.RemoteEndPoint}";
    }

    public long Id { get; }

    /// <summary>Who the session is, for logs and reports: never a password or key.</summary>
    public string Description { get; }

    public string? Site => _registration?.Site;

    /// <summary>Logs the client in to <paramref name="target"/> through the gateway, then runs the session until either side ends it.</summary>
    public async Task RunAsync(DatabaseTarget target, Socket server, IPgSessionRegistration registration)
    {
        _registration = registration;
        var link = new PgServerLink(server, target);
        lock (_lock)
        {
            _link = link;
        }

        Task serverSide = Task.CompletedTask;
        Task clientSide = Task.CompletedTask;
        try
        {
            if (!await RelayLoginAsync(link))
            {
                return;
            }

            serverSide = ServerSideAsync(link);
            clientSide = ClientSideAsync();
            await Task.WhenAny(serverSide, clientSide);
        }
        finally
        {
            await EndAsync();
            await Quietly(serverSide);
            await Quietly(clientSide);
            await Quietly(_client.Transport.Output.CompleteAsync().AsTask());
            if (_cancelKey is { } key)
            {
                _mover.CancelKeys.Revoke(key.ProcessId);
            }

            _login.Dispose();
            registration.Dispose();
        }
    }

    /// <summary>
    /// A fence asks the session to leave its node at its next transaction boundary (now, if idle). Planned: the node
    /// still answers and is asked what the session holds first. Returns the move's ticket.
    /// </summary>
    public PgMoveTicket RequestMove(bool planned)
    {
        lock (_lock)
        {
            if (_move is { } existing)
            {
                existing.RequestedByFence = true;
                return existing;
            }

            var ticket = new PgMoveTicket(Description, planned, _mover.Time.GetUtcNow()) { RequestedByFence = true };
            if (_ended)
            {
                ticket.Closed("the session had ended", _mover.Time.GetUtcNow());
                return ticket;
            }

            _move = ticket;
            if (_serverSideRunning && _state.IsIdle)
            {
                // Wakes the server side, which is waiting for the node to say something it never will.
                _link?.Input.CancelPendingRead();
            }

            return ticket;
        }
    }

    /// <summary>
    /// The session's node is lost or its time to reach a boundary ran out: a session idle now moves, one in a
    /// transaction is ended at once with <paramref name="error"/>.
    /// </summary>
    public PgMoveTicket EndUnlessIdle(bool planned, string error, PgSessionCloseReason reason)
    {
        var ticket = RequestMove(planned);
        lock (_lock)
        {
            if (_link is { } link && !_state.IsIdle && _endRequest is null)
            {
                _endRequest = new EndRequest(error, reason);
                link.Input.CancelPendingRead();
            }
        }

        return ticket;
    }

    /// <summary>A client's CancelRequest with this session's key: passed to the node the session runs on now, if any.</summary>
    public Task CancelAsync()
    {
        PgServerLink? link;
        lock (_lock)
        {
            link = _link;
        }

        return link?.BackendKey is { } key ? _mover.CancelAsync(link.Target, key) : Task.CompletedTask;
    }

    /// <summary>Aborts the client connection at once (a fence of a node the session must not stay on, with no time to wait).</summary>
    public void Abort(string reason) => _client.Abort(new ConnectionAbortedException(reason));

    private async Task<bool> RelayLoginAsync(PgServerLink link)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(_end.Token);
        bound.CancelAfter(_mover.Options.StartupTimeout);
        var client = _client.Transport;
        try
        {
            await link.SendAsync(_state.Startup.Bytes, bound.Token);
            while (true)
            {
                var message = await link.ReadAsync(bound.Token);
                switch (message.Type)
                {
                    case PgWire.Backend.Authentication:
                        var answer = _login.OnServerRequest(message.AuthCode, message.Body.AsSpan(Math.Min(4, message.Body.Length)));
                        await WriteClientAsync(message.ToBytes(), bound.Token);
                        if (answer)
                        {
                            var response = await PgMessage.ReadAsync(client.Input, PgWire.IsFrontendType, PgWire.MaxFrontendLength, bound.Token);
                            if (response.Type != PgWire.Frontend.Password)
                            {
                                throw new PgProtocolException($"the client answered an authentication request with '{(char)response.Type}'");
                            }

                            _login.OnClientResponse(response.Body);
                            await link.SendAsync(response.ToBytes(), bound.Token);
                        }

                        break;
                    case PgWire.Backend.BackendKeyData when message.Body.Length == 8:
                        link.BackendKey = (BinaryPrimitives.ReadInt32BigEndian(message.Body), BinaryPrimitives.ReadInt32BigEndian(message.Body.AsSpan(4)));
                        _cancelKey = _mover.CancelKeys.Issue(this);
                        await WriteClientAsync(PgWire.BackendKeyData(_cancelKey.Value.ProcessId, _cancelKey.Value.Secret), bound.Token);
                        break;
                    case PgWire.Backend.ParameterStatus:
                        lock (_lock)
                        {
                            _state.OnServerMessage(message.Type, message.Body);
                        }

                        await WriteClientAsync(message.ToBytes(), bound.Token);
                        break;
                    case PgWire.Backend.ReadyForQuery:
                        lock (_lock)
                        {
                            _state.StartOnNewServer();
                            if (_login.Method == PgLoginMethod.Unrepeatable)
                            {
                                _state.MarkUnmovable(UnmovableState.Authentication);
                            }
                        }

                        await WriteClientAsync(message.ToBytes(), bound.Token);
                        return true;
                    case PgWire.Backend.ErrorResponse:
                        // Refused (wrong password, no such database): the client reads the node's own words.
                        await WriteClientAsync(message.ToBytes(), bound.Token);
                        return false;
                    case PgWire.Backend.NoticeResponse or PgWire.Backend.NegotiateProtocolVersion:
                        await WriteClientAsync(message.ToBytes(), bound.Token);
                        break;
                    default:
                        throw new PgProtocolException($"unexpected message '{(char)message.Type}' from the node during the login");
                }
            }
        }
        catch (PgProtocolException e)
        {
            Log.ProtocolViolation(_mover.Logger, Description, "login", e.Message);
            _mover.Metrics.Closed(PgSessionCloseReason.ClientProtocolViolation);
            await WriteClientQuietlyAsync(PgRefusal.ErrorResponse(ProtocolViolation, "gateway: " + e.Message));
            return false;
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException or IOException or SocketException or ConnectionResetException or ObjectDisposedException)
        {
            return false;
        }
    }

    private const string ProtocolViolation = "08P01";
    private const string AdminShutdown = "57P01";
    private const string ConnectionFailure = "08006";

    private async Task ClientSideAsync()
    {
        var input = _client.Transport.Input;
        var cutter = PgMessageCutter.ForClient(PgSessionMover.InspectLimit);
        PgServerLink? pieceLink = null;
        var unflushed = new List<PgServerLink>(1);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(_end.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
            {
                return;
            }

            var buffer = result.Buffer;
            var consumed = buffer.Start;
            try
            {
                while (true)
                {
                    var rest = buffer.Slice(consumed);
                    var cut = cutter.Next(rest);
                    if (cut.Kind == PgCutKind.NeedMore)
                    {
                        break;
                    }

                    if (cut.Kind == PgCutKind.Violation)
                    {
                        await ClientViolationAsync(cut.Violation!);
                        return;
                    }

                    var bytes = rest.Slice(0, cut.Length);
                    var continuation = cut is { Kind: PgCutKind.Piece, FirstPiece: false };
                    var link = continuation ? pieceLink! : null;
                    if (!continuation)
                    {
                        if (!TryPass(cut, bytes, out link, out var inject))
                        {
                            (link, inject) = await HoldAsync(cut, bytes, unflushed);
                            if (link is null)
                            {
                                return;
                            }
                        }

                        if (inject is not null)
                        {
                            await SendAsync(link!, new ReadOnlySequence<byte>(inject), unflushed);
                        }

                        pieceLink = link;
                    }

                    await SendAsync(link!, bytes, unflushed);
                    if (cut.Type == PgWire.Frontend.Terminate && !continuation)
                    {
                        await FlushAsync(unflushed);
                        return;
                    }

                    // A large message goes out as it comes, so the pipe's buffer stays small.
                    if (link!.Output.UnflushedBytes > 256 * 1024 && !await FlushAsync(unflushed))
                    {
                        return;
                    }

                    consumed = buffer.GetPosition(cut.Length, consumed);
                }

                if (!await FlushAsync(unflushed))
                {
                    return;
                }
            }
            finally
            {
                input.AdvanceTo(consumed, buffer.End);
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Lets a message that starts a request through to the node (the tracker sees it on the way), unless the session
    /// must hold it: a move asked for and the session at a boundary, no node yet, or an end under way.
    /// </summary>
    private bool TryPass(PgCut cut, ReadOnlySequence<byte> bytes, out PgServerLink? link, out byte[]? inject)
    {
        lock (_lock)
        {
            if (_link is { } current && !_ended && _endRequest is null && !(_move is not null && _state.IsIdle))
            {
                var step = cut.Kind == PgCutKind.Message
                    ? _state.OnClientMessage(cut.Type, PgWire.Body(bytes))
                    : _state.OnOversizedClientMessage(cut.Type, Peek(bytes));
                link = current;
                inject = step.InjectFirst;
                return true;
            }
        }

        link = null;
        inject = null;
        return false;
    }

    /// <summary>Holds the message until the session is attached to a node again (then lets it through), or ends: null then.</summary>
    private async Task<(PgServerLink? Link, byte[]? Inject)> HoldAsync(PgCut cut, ReadOnlySequence<byte> bytes, List<PgServerLink> unflushed)
    {
        while (true)
        {
            Task<bool> attached;
            lock (_lock)
            {
                if (_ended || (cut.Type == PgWire.Frontend.Terminate && _link is null))
                {
                    // Goodbye while moving: there is no node to tell.
                    return (null, null);
                }

                _heldSince ??= _mover.Time.GetUtcNow();
                _attached ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                attached = _attached.Task;
            }

            // What went before this message belongs to the old node: it must leave before the session does.
            if (!await FlushAsync(unflushed) || !await HeldUntilAttachedAsync(attached))
            {
                return (null, null);
            }

            if (TryPass(cut, bytes, out var link, out var inject))
            {
                return (link, inject);
            }
        }
    }

    /// <summary>False when the session ended, or the client went away while it waited (nobody to move the session for).</summary>
    private async Task<bool> HeldUntilAttachedAsync(Task<bool> attached)
    {
        try
        {
            return await attached.WaitAsync(_client.ConnectionClosed);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static ReadOnlySpan<byte> Peek(ReadOnlySequence<byte> firstPiece)
    {
        var peek = firstPiece.Slice(PgWire.HeaderLength, Math.Min(PgMessageCutter.PeekLength, firstPiece.Length) - PgWire.HeaderLength);
        return peek.IsSingleSegment ? peek.FirstSpan : peek.ToArray();
    }

    /// <summary>
    /// Buffers bytes for the node, holding its writer until the next flush (the gateway's own messages to that node
    /// wait for it); a node that went away fails that flush.
    /// </summary>
    private async ValueTask SendAsync(PgServerLink link, ReadOnlySequence<byte> bytes, List<PgServerLink> unflushed)
    {
        if (!unflushed.Contains(link))
        {
            await link.TakeWriterAsync(_end.Token);
            unflushed.Add(link);
        }

        foreach (var segment in bytes)
        {
            link.Output.Write(segment.Span);
        }
    }

    private async Task<bool> FlushAsync(List<PgServerLink> unflushed)
    {
        try
        {
            foreach (var link in unflushed)
            {
                await link.Output.FlushAsync(_end.Token);
            }

            return true;
        }
        catch (Exception e) when (IsConnectionEnd(e))
        {
            return !_end.IsCancellationRequested;
        }
        finally
        {
            foreach (var link in unflushed)
            {
                link.ReturnWriter();
            }

            unflushed.Clear();
        }
    }

    private async Task ClientViolationAsync(string violation)
    {
        Log.ProtocolViolation(_mover.Logger, Description, "client", violation);
        _mover.Metrics.Closed(PgSessionCloseReason.ClientProtocolViolation);
        await WriteClientQuietlyAsync(PgRefusal.ErrorResponse(ProtocolViolation, $"gateway: invalid message from the client: {violation}"));
    }

    /// <summary>The server side: passes the node's messages on, and when a move or an end is due, carries it out, then goes on with the next node.</summary>
    private async Task ServerSideAsync(PgServerLink first)
    {
        var link = first;
        lock (_lock)
        {
            _serverSideRunning = true;
            // A fence that came during the login asked for a move the server side has not seen yet.
            if (_move is not null && _state.IsIdle)
            {
                link.Input.CancelPendingRead();
            }
        }

        while (link is not null)
        {
            var stop = await PumpServerAsync(link);
            link = stop.Kind switch
            {
                StopKind.Boundary => await LeaveAtBoundaryAsync(link),
                StopKind.Lost => await OnNodeLostAsync(link, stop.LastWords),
                StopKind.End => await EndWithErrorAsync(link, stop.End!),
                StopKind.Violation => await ServerViolationAsync(link, stop.Violation!),
                _ => null,
            };
        }
    }

    private async Task<Stop> PumpServerAsync(PgServerLink link)
    {
        var cutter = PgMessageCutter.ForServer(PgSessionMover.InspectLimit);
        var output = _client.Transport.Output;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await link.Input.ReadAsync(_end.Token);
            }
            catch (OperationCanceledException) when (_end.IsCancellationRequested)
            {
                return Stop.Closed;
            }
            catch (Exception e) when (IsConnectionEnd(e))
            {
                return new Stop(StopKind.Lost);
            }

            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var run = buffer.Start;
            Stop? stop = null;
            try
            {
                await _clientWrite.WaitAsync(_end.Token);
            }
            catch (OperationCanceledException)
            {
                link.Input.AdvanceTo(buffer.Start);
                return Stop.Closed;
            }

            try
            {
                while (stop is null)
                {
                    if (!cutter.InsideMessage)
                    {
                        lock (_lock)
                        {
                            if (_endRequest is { } end)
                            {
                                stop = new Stop(StopKind.End, End: end);
                                break;
                            }
                        }
                    }

                    var rest = buffer.Slice(consumed);
                    var cut = cutter.Next(rest);
                    if (cut.Kind == PgCutKind.NeedMore)
                    {
                        break;
                    }

                    if (cut.Kind == PgCutKind.Violation)
                    {
                        stop = new Stop(StopKind.Violation, Violation: cut.Violation);
                        break;
                    }

                    var next = buffer.GetPosition(cut.Length, consumed);
                    // Rows, data and descriptions pass untouched; only what changes the session's state is looked at.
                    if (cut.Kind == PgCutKind.Message && PgSessionState.TracksServerMessage(cut.Type))
                    {
                        var message = rest.Slice(0, cut.Length);
                        bool forward;
                        lock (_lock)
                        {
                            if (cut.Type == PgWire.Backend.ErrorResponse && !_state.RequestInFlight)
                            {
                                // Said to nobody in particular: the node is ending the session (shutdown, crash, terminate).
                                stop = new Stop(StopKind.Lost, LastWords: message.ToArray());
                                break;
                            }

                            forward = _state.OnServerMessage(cut.Type, PgWire.Body(message));
                            if (cut.Type == PgWire.Backend.ReadyForQuery && _move is not null && _state.IsIdle)
                            {
                                stop = new Stop(StopKind.Boundary);
                            }
                        }

                        if (!forward)
                        {
                            Write(output, buffer.Slice(run, consumed));
                            run = next;
                        }
                    }

                    consumed = next;
                }

                Write(output, buffer.Slice(run, consumed));
                var flushed = await output.FlushAsync(_end.Token);
                if (flushed.IsCompleted)
                {
                    return Stop.Closed;
                }
            }
            catch (Exception e) when (IsConnectionEnd(e))
            {
                return Stop.Closed;
            }
            finally
            {
                _clientWrite.Release();
                link.Input.AdvanceTo(consumed, buffer.End);
            }

            if (stop is { } decided)
            {
                return decided;
            }

            if (result.IsCanceled)
            {
                lock (_lock)
                {
                    if (_move is not null && _state.IsIdle)
                    {
                        return new Stop(StopKind.Boundary);
                    }
                }
            }

            if (result.IsCompleted)
            {
                return new Stop(StopKind.Lost);
            }
        }
    }

    private static void Write(PipeWriter output, ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            output.Write(segment.Span);
        }
    }

    /// <summary>At a boundary with a move asked for: asks the old node what the session holds (planned), then leaves it and moves.</summary>
    private async Task<PgServerLink?> LeaveAtBoundaryAsync(PgServerLink link)
    {
        PgMoveTicket ticket;
        lock (_lock)
        {
            ticket = _move!;
        }

        if (ticket.Planned && await AskWhatItHoldsAsync(link) is { } held)
        {
            lock (_lock)
            {
                _state.ConfirmUnmovable(held);
            }
        }

        if (UnmovableReason() is { } unmovable)
        {
            await link.TerminateAsync();
            await link.DisposeAsync();
            return await CloseAsync(AdminShutdown,
                $"gateway: the session was closed at a transaction boundary because the primary moves away from site {link.Target.SiteId} and the session {unmovable.Text}, which cannot move with it; reconnect",
                unmovable.Reason, ticket);
        }

        await link.TerminateAsync();
        await link.DisposeAsync();
        DetachFrom(link, ticket);
        return await MoveAsync(ticket, link.Target.SiteId, lastWords: null);
    }

    /// <summary>The node's connection ended on its own. Idle: the session moves (or gets the node's words, see <see cref="MoveAsync"/>); in a request: the client gets an error, nothing is repeated.</summary>
    private async Task<PgServerLink?> OnNodeLostAsync(PgServerLink link, byte[]? lastWords)
    {
        await link.DisposeAsync();
        PgMoveTicket ticket;
        bool idle;
        lock (_lock)
        {
            idle = _state.IsIdle;
            ticket = _move ??= new PgMoveTicket(Description, planned: false, _mover.Time.GetUtcNow());
        }

        if (!idle)
        {
            return await CloseAsync(lastWords,
                PgRefusal.ErrorResponse(ConnectionFailure, $"gateway: the connection to the database node of site {link.Target.SiteId} was lost while a request was in flight or a transaction open; whether it was carried out is unknown, so it is not repeated"),
                PgSessionCloseReason.LostInRequest, ticket);
        }

        if (UnmovableReason() is { } unmovable)
        {
            return await CloseAsync(AdminShutdown,
                $"gateway: the connection to the database node of site {link.Target.SiteId} was lost, and the session {unmovable.Text}, which cannot move to another node; reconnect",
                unmovable.Reason, ticket);
        }

        DetachFrom(link, ticket);
        return await MoveAsync(ticket, link.Target.SiteId, lastWords);
    }

    private void DetachFrom(PgServerLink link, PgMoveTicket ticket)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_link, link))
            {
                _link = null;
            }
        }

        ticket.Left(_mover.Time.GetUtcNow());
    }

    /// <summary>
    /// Logs the session in to the primary the routes name (waiting while a switch holds writes, retrying while the
    /// node is down, at most Database:HoldConnectionsFor), restores its settings and attaches it. A session whose
    /// node ended it (<paramref name="lastWords"/>) while neither fenced nor down, that is, one the node ended on
    /// purpose (pg_terminate_backend, idle_session_timeout), gets those words instead of a new node.
    /// </summary>
    private async Task<PgServerLink?> MoveAsync(PgMoveTicket ticket, string from, byte[]? lastWords)
    {
        var options = _mover.Options;
        var giveUpAt = _mover.Time.GetUtcNow() + options.HoldConnectionsFor;
        var nodeWasDown = false;
        string? lastProblem = null;
        while (!_end.IsCancellationRequested)
        {
            var changed = _mover.Routing.ChangedAsync();
            var decision = _mover.Targets.Decide(DatabaseEndpointRole.Write);
            if (decision.Target is { } target)
            {
                _registration?.MoveTo(target.SiteId);
                // The new site must be visible before the routes are read again (a fence of it writes them, then reads the sessions).
                Interlocked.MemoryBarrier();
                PgServerLink? link = null;
                try
                {
                    link = await _mover.LoginAsync(target, _state.Startup, _login, _end.Token);
                }
                catch (PgMoveException e) when (e.Retryable)
                {
                    nodeWasDown = true;
                    lastProblem = e.Message;
                }
                catch (PgMoveException e)
                {
                    return await CloseAsync(AdminShutdown, $"gateway: the session could not move to site {target.SiteId}: {e.Message}; reconnect", e.Reason, ticket);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }

                if (link is not null)
                {
                    if (_mover.Targets.Decide(DatabaseEndpointRole.Write).Target != target)
                    {
                        await link.TerminateAsync();
                        await link.DisposeAsync();
                        continue;
                    }

                    if (lastWords is not null && !ticket.RequestedByFence && !nodeWasDown && target.SiteId == from)
                    {
                        await link.TerminateAsync();
                        await link.DisposeAsync();
                        return await CloseAsync(lastWords, null, PgSessionCloseReason.EndedByServer, ticket);
                    }

                    if (await RestoreAsync(link) is { } problem)
                    {
                        await link.TerminateAsync();
                        await link.DisposeAsync();
                        return await CloseAsync(AdminShutdown, $"gateway: the session could not move to site {target.SiteId}: restoring its state failed: {problem}; reconnect",
                            PgSessionCloseReason.RestoreFailed, ticket);
                    }

                    return await AttachAsync(link, ticket);
                }
            }

            var left = giveUpAt - _mover.Time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return await CloseAsync(AdminShutdown,
                    $"gateway: no primary took the session within {options.HoldConnectionsFor.TotalSeconds:0.#} s after it left site {from} ({lastProblem ?? decision.Reason}); reconnect",
                    PgSessionCloseReason.NoPrimary, ticket);
            }

            try
            {
                await changed.WaitAsync(TimeSpan.FromTicks(Math.Min(left.Ticks, options.ObserveInterval.Ticks)), _mover.Time, _end.Token);
            }
            catch (TimeoutException)
            {
                // Decide again: the node may be up, or the routes changed.
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Repeats the session's settings and SQL-level prepared statements on the new node; the error's text if one fails.</summary>
    private async Task<string?> RestoreAsync(PgServerLink link)
    {
        IReadOnlyList<string> statements;
        lock (_lock)
        {
            statements = _state.RestoreStatements;
        }

        if (statements.Count == 0)
        {
            return null;
        }

        var (error, _) = await RunAsync(link, string.Join(";\n", statements));
        return error;
    }

    /// <summary>Runs a statement of the gateway's own on the session's node: the error, or the first row's text values.</summary>
    private async Task<(string? Error, List<string?> Row)> RunAsync(PgServerLink link, string sql)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(_end.Token);
        bound.CancelAfter(_mover.Options.StartupTimeout);
        await link.SendAsync(PgWire.Query(sql), bound.Token);
        string? error = null;
        var row = new List<string?>();
        while (true)
        {
            var message = await link.ReadAsync(bound.Token);
            switch (message.Type)
            {
                case PgWire.Backend.ErrorResponse:
                    var fields = PgWire.Fields(message.Body);
                    error ??= $"{fields.GetValueOrDefault('M')} ({fields.GetValueOrDefault('C')})";
                    break;
                case PgWire.Backend.DataRow when row.Count == 0:
                    row = DataRowText(message.Body);
                    break;
                case PgWire.Backend.ParameterStatus:
                    _mover.RecordParameter(link, message.Body);
                    break;
                case PgWire.Backend.ReadyForQuery:
                    return (error, row);
            }
        }
    }

    private static List<string?> DataRowText(byte[] body)
    {
        var values = new List<string?>();
        var columns = BinaryPrimitives.ReadInt16BigEndian(body);
        var at = 2;
        for (var i = 0; i < columns && at + 4 <= body.Length; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(at));
            at += 4;
            values.Add(length < 0 ? null : System.Text.Encoding.UTF8.GetString(body, at, length));
            at += Math.Max(0, length);
        }

        return values;
    }

    /// <summary>The unmovable state as the node itself reports it; null when it cannot say (then the scanned guess stands).</summary>
    private async Task<UnmovableState?> AskWhatItHoldsAsync(PgServerLink link)
    {
        try
        {
            var (error, row) = await RunAsync(link, UnmovableStateQuery);
            if (error is not null || row.Count < 6)
            {
                return null;
            }

            var held = UnmovableState.None;
            if (row[0] == "t")
            {
                held |= UnmovableState.TemporaryObjects;
            }

            if (row[1] == "t")
            {
                held |= UnmovableState.AdvisoryLocks;
            }

            if (row[2] == "t")
            {
                held |= UnmovableState.Listen;
            }

            if (row[3] == "t")
            {
                held |= UnmovableState.HoldCursors;
            }

            if (row[4] != row[5] || row[4] != _state.Startup.User)
            {
                held |= UnmovableState.Role;
            }

            return held;
        }
        catch (Exception e) when (IsConnectionEnd(e) || e is PgProtocolException)
        {
            return null;
        }
    }

    /// <summary>The new node takes the session: the held request (if any) goes on, the client learns of any parameter that differs.</summary>
    private async Task<PgServerLink?> AttachAsync(PgServerLink link, PgMoveTicket ticket)
    {
        var now = _mover.Time.GetUtcNow();
        TaskCompletionSource<bool>? attached;
        TimeSpan? held;
        var changes = new List<byte[]>();
        lock (_lock)
        {
            if (_ended)
            {
                _ = link.DisposeAsync().AsTask();
                return null;
            }

            foreach (var (name, value) in link.Parameters)
            {
                if (!_state.ServerParameters.TryGetValue(name, out var known) || known != value)
                {
                    var status = PgWire.ParameterStatus(name, value);
                    changes.Add(status);
                    _state.OnServerMessage(PgWire.Backend.ParameterStatus, status.AsSpan(PgWire.HeaderLength));
                }
            }

            _state.StartOnNewServer();
            _link = link;
            held = now - _heldSince;
            _heldSince = null;
            _move = null;
            attached = _attached;
            _attached = null;
        }

        if (changes.Count > 0)
        {
            await WriteClientQuietlyAsync([.. changes.SelectMany(c => c)], complete: false);
        }

        _mover.Metrics.Moved(link.Target.SiteId);
        if (held is { } wait)
        {
            _mover.Metrics.Held(wait);
        }

        ticket.Moved(link.Target.SiteId, held, now);
        Log.Moved(_mover.Logger, Description, link.Target.SiteId, held?.TotalMilliseconds ?? 0);
        attached?.TrySetResult(true);
        return link;
    }

    /// <summary>A fence's end request: the client gets the error at a message boundary, the node's connection is closed (rolling back what was open).</summary>
    private async Task<PgServerLink?> EndWithErrorAsync(PgServerLink link, EndRequest end)
    {
        await link.DisposeAsync();
        PgMoveTicket? ticket;
        lock (_lock)
        {
            ticket = _move;
        }

        return await CloseAsync(end.SqlState, end.Message, end.Reason, ticket);
    }

    private async Task<PgServerLink?> ServerViolationAsync(PgServerLink link, string violation)
    {
        Log.ProtocolViolation(_mover.Logger, Description, $"node of site {link.Target.SiteId}", violation);
        await link.DisposeAsync();
        return await CloseAsync(ConnectionFailure, $"gateway: the database node of site {link.Target.SiteId} sent something that is not PostgreSQL: {violation}",
            PgSessionCloseReason.ServerProtocolViolation, null);
    }

    private Task<PgServerLink?> CloseAsync(string sqlState, string message, PgSessionCloseReason reason, PgMoveTicket? ticket) =>
        CloseAsync(null, PgRefusal.ErrorResponse(sqlState, message), reason, ticket);

    /// <summary>Ends the session with an error the client reads (the node's own words when given), counted and logged with its reason.</summary>
    private async Task<PgServerLink?> CloseAsync(byte[]? nodeWords, byte[]? gatewayError, PgSessionCloseReason reason, PgMoveTicket? ticket)
    {
        var error = nodeWords ?? gatewayError!;
        var text = PgWire.Fields(error.AsSpan(PgWire.HeaderLength)).GetValueOrDefault('M', "");
        lock (_lock)
        {
            // Counted under its reason, not as a client gone while held.
            _heldSince = null;
        }

        _mover.Metrics.Closed(reason);
        Log.Closed(_mover.Logger, Description, PgSessionMetrics.Label(reason), text);
        ticket?.Closed(text, _mover.Time.GetUtcNow());
        await WriteClientQuietlyAsync(error);
        await EndAsync();
        return null;
    }

    private (string Text, PgSessionCloseReason Reason)? UnmovableReason()
    {
        UnmovableState state;
        lock (_lock)
        {
            state = _state.Unmovable;
        }

        return state switch
        {
            UnmovableState.None => null,
            _ when state.HasFlag(UnmovableState.TemporaryObjects) => ("holds a temporary table (or another temporary object)", PgSessionCloseReason.TemporaryObjects),
            _ when state.HasFlag(UnmovableState.AdvisoryLocks) => ("holds a session-level advisory lock", PgSessionCloseReason.AdvisoryLocks),
            _ when state.HasFlag(UnmovableState.Listen) => ("listens for notifications (LISTEN)", PgSessionCloseReason.Listen),
            _ when state.HasFlag(UnmovableState.HoldCursors) => ("holds a cursor declared WITH HOLD", PgSessionCloseReason.HoldCursors),
            _ when state.HasFlag(UnmovableState.Role) => ("runs under another role (SET ROLE or SET SESSION AUTHORIZATION)", PgSessionCloseReason.Role),
            _ when state.HasFlag(UnmovableState.OversizedStatements) => ($"holds more prepared statements than the gateway keeps ({PgSessionState.MaxStatementBytes / (1024 * 1024)} MiB, or one over {PgSessionMover.InspectLimit / 1024} KiB)", PgSessionCloseReason.OversizedStatements),
            _ when state.HasFlag(UnmovableState.Replication) => ("is a replication connection", PgSessionCloseReason.Replication),
            _ => ("logged in by a method the gateway cannot repeat (a cleartext password, GSSAPI or SSPI)", PgSessionCloseReason.Authentication),
        };
    }

    private async Task WriteClientAsync(byte[] bytes, CancellationToken cancellation)
    {
        await _clientWrite.WaitAsync(cancellation);
        try
        {
            await _client.Transport.Output.WriteAsync(bytes, cancellation);
        }
        finally
        {
            _clientWrite.Release();
        }
    }

    /// <summary>Writes to a client that may be gone; an error message is followed by the end of the connection.</summary>
    private async Task WriteClientQuietlyAsync(byte[] bytes, bool complete = true)
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _clientWrite.WaitAsync(bound.Token);
            try
            {
                await _client.Transport.Output.WriteAsync(bytes, bound.Token);
                if (complete)
                {
                    await _client.Transport.Output.CompleteAsync();
                }
            }
            finally
            {
                _clientWrite.Release();
            }
        }
        catch (Exception e) when (IsConnectionEnd(e) || e is InvalidOperationException)
        {
            // Nobody left to tell.
        }
    }

    private async Task EndAsync()
    {
        PgServerLink? link;
        TaskCompletionSource<bool>? attached;
        PgMoveTicket? ticket;
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            link = _link;
            _link = null;
            attached = _attached;
            _attached = null;
            ticket = _move;
            if (_heldSince is not null)
            {
                _mover.Metrics.Closed(PgSessionCloseReason.ClientGoneWhileHeld);
            }
        }

        attached?.TrySetResult(false);
        ticket?.Closed("the session ended while it moved", _mover.Time.GetUtcNow());
        await _end.CancelAsync();
        if (link is not null)
        {
            await link.TerminateAsync();
            await link.DisposeAsync();
        }
    }

    private static bool IsConnectionEnd(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or ConnectionResetException or ConnectionAbortedException or EndOfStreamException;

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (IsConnectionEnd(e) || e is InvalidOperationException)
        {
            // The session is over either way.
        }
    }

    private sealed record EndRequest(string Message, PgSessionCloseReason Reason, string SqlState = AdminShutdown);

    private enum StopKind
    {
        Closed,
        Boundary,
        Lost,
        End,
        Violation,
    }

    private readonly record struct Stop(StopKind Kind, byte[]? LastWords = null, EndRequest? End = null, string? Violation = null)
    {
        public static readonly Stop Closed = new(StopKind.Closed);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "PG session {Session} moved to site {Site} (next request held {HeldMs:0} ms)")]
        public static partial void Moved(ILogger logger, string session, string site, double heldMs);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "PG session {Session} closed ({Reason}): {Message}")]
        public static partial void Closed(ILogger logger, string session, string reason, string message);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "PG session {Session}: protocol violation by the {Side}: {Violation}")]
        public static partial void ProtocolViolation(ILogger logger, string session, string side, string violation);
    }
}

/// <summary>A session's entry in <see cref="PgSessions"/>: the site it runs on, updated as it moves.</summary>
public interface IPgSessionRegistration : IDisposable
{
    string Site { get; }

    void MoveTo(string site);
}
