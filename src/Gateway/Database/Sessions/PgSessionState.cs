using System.Text;

namespace Gateway.Database.Sessions;

/// <summary>State a session holds on its server that no other server can be given: it is closed instead of moved.</summary>
[Flags]
public enum UnmovableState
{
    None = 0,
    TemporaryObjects = 1,
    AdvisoryLocks = 2,
    Listen = 4,
    HoldCursors = 8,
    Role = 16,

    /// <summary>Prepared statements beyond what the gateway keeps per session.</summary>
    OversizedStatements = 32,

    /// <summary>A replication connection: not a SQL session.</summary>
    Replication = 64,

    /// <summary>The client logged in by a method the gateway cannot repeat (a cleartext password, GSSAPI, a certificate).</summary>
    Authentication = 128,
}

/// <summary>What the gateway does with a client message after the tracker has seen it.</summary>
public readonly record struct ClientStep(byte[]? InjectFirst)
{
    public static readonly ClientStep Forward = new((byte[]?)null);
}

/// <summary>
/// Everything a client session is, as seen from both directions of the protocol: the startup parameters, the
/// parameters the server reported (ParameterStatus), the settings changed by SET and friends, the named prepared
/// statements (Parse and Close, confirmed by ParseComplete and CloseComplete), where the session is in the protocol
/// (requests sent and not yet answered by ReadyForQuery, the transaction status) and whether it holds state that
/// cannot move. Pure: messages in, decisions out, no I/O; one instance per session, used under the session's lock.
/// </summary>
public sealed class PgSessionState(PgStartupPacket startup)
{
    /// <summary>The most prepared-statement text a session may keep for re-preparing (beyond it the session cannot move).</summary>
    public const int MaxStatementBytes = 16 * 1024 * 1024;

    private readonly Dictionary<string, string> _serverParameters = [];
    private readonly Dictionary<string, byte[]> _statements = [];
    private readonly HashSet<string> _missingOnServer = [];
    private readonly Queue<PendingOperation> _operations = new();
    private readonly List<KeyValuePair<string, string>> _settings = [];
    private readonly List<KeyValuePair<string, string>> _sqlPrepared = [];
    private readonly List<SqlEffect> _pendingEffects = [];
    private readonly List<SqlEffect> _scratch = [];
    private long _syncsSent;
    private long _syncsDone;
    private int _pendingSyncs;
    private bool _batchOpen;
    private bool _errorSinceIdle;
    private bool _rolledBack;
    private long _statementBytes;

    public PgStartupPacket Startup { get; } = startup;

    /// <summary>The parameters the client has been told (ParameterStatus), by name.</summary>
    public IReadOnlyDictionary<string, string> ServerParameters => _serverParameters;

    /// <summary>'I' idle, 'T' in a transaction, 'E' in a failed transaction: from the last ReadyForQuery.</summary>
    public char TransactionStatus { get; private set; } = 'I';

    public UnmovableState Unmovable { get; private set; } = startup.IsReplication ? UnmovableState.Replication : UnmovableState.None;

    /// <summary>Requests the server has not answered with ReadyForQuery yet, or messages sent since the last Sync.</summary>
    public bool RequestInFlight => _pendingSyncs > 0 || _batchOpen;

    /// <summary>At a transaction boundary: nothing in flight, no transaction open. The one moment a session may move.</summary>
    public bool IsIdle => !RequestInFlight && TransactionStatus == 'I';

    public int PreparedStatementCount => _statements.Count;

    public IReadOnlyCollection<string> StatementsMissingOnServer => _missingOnServer;

    /// <summary>The session-level settings in the order they were last changed: the statements that made them.</summary>
    public IEnumerable<string> SettingStatements => _settings.Select(s => s.Value);

    /// <summary>What a new server runs before the session carries on there: the settings, then the SQL-level prepared statements.</summary>
    public IReadOnlyList<string> RestoreStatements => [.. _settings.Select(s => s.Value), .. _sqlPrepared.Select(p => p.Value)];

    public void MarkUnmovable(UnmovableState state) => Unmovable |= state;

    /// <summary>Replaces the guessed unmovable state with what the server itself answered (temporary objects, locks, ...).</summary>
    public void ConfirmUnmovable(UnmovableState observed)
    {
        const UnmovableState observable = UnmovableState.TemporaryObjects | UnmovableState.AdvisoryLocks | UnmovableState.Listen | UnmovableState.HoldCursors | UnmovableState.Role;
        Unmovable = (Unmovable & ~observable) | (observed & observable);
    }

    /// <summary>A client message about to go to the server; may ask for a Parse to go first (a statement not yet prepared on this server).</summary>
    public ClientStep OnClientMessage(byte type, ReadOnlySpan<byte> body)
    {
        switch (type)
        {
            case PgWire.Frontend.Query:
                ScanSql(PgWire.TryReadCString(body, out var sql, out _) ? sql : body);
                SyncPoint();
                return ClientStep.Forward;
            case PgWire.Frontend.Sync or PgWire.Frontend.FunctionCall:
                SyncPoint();
                return ClientStep.Forward;
            case PgWire.Frontend.Parse:
                _batchOpen = true;
                OnParse(body);
                return ClientStep.Forward;
            case PgWire.Frontend.Bind:
                _batchOpen = true;
                // Bind: portal name, then statement name.
                return PgWire.TryReadCString(body, out _, out var afterPortal) && PgWire.TryReadCString(afterPortal, out var bound, out _)
                    ? PrepareIfMissing(bound)
                    : ClientStep.Forward;
            case PgWire.Frontend.Describe:
                _batchOpen = true;
                return body.Length > 1 && body[0] == 'S' && PgWire.TryReadCString(body[1..], out var described, out _)
                    ? PrepareIfMissing(described)
                    : ClientStep.Forward;
            case PgWire.Frontend.Close:
                _batchOpen = true;
                string? closedStatement = null;
                if (body.Length > 1 && body[0] == 'S' && PgWire.TryReadCString(body[1..], out var closed, out _) && !closed.IsEmpty)
                {
                    closedStatement = Encoding.UTF8.GetString(closed);
                }

                _operations.Enqueue(new(OperationKind.Close, closedStatement, null, false, _syncsSent));
                return ClientStep.Forward;
            case PgWire.Frontend.Execute:
                _batchOpen = true;
                return ClientStep.Forward;
            default:
                // Flush, COPY data, password messages: no effect on where the session is.
                return ClientStep.Forward;
        }
    }

    /// <summary>
    /// A client message too big to hold whole, of which <paramref name="start"/> is the beginning: a query too big to
    /// scan, or a prepared statement too big to keep.
    /// </summary>
    public ClientStep OnOversizedClientMessage(byte type, ReadOnlySpan<byte> start)
    {
        switch (type)
        {
            case PgWire.Frontend.Query or PgWire.Frontend.FunctionCall:
                SyncPoint();
                return ClientStep.Forward;
            case PgWire.Frontend.Parse:
                _batchOpen = true;
                var named = PgWire.TryReadCString(start, out var name, out _) && !name.IsEmpty;
                if (named)
                {
                    Unmovable |= UnmovableState.OversizedStatements;
                }

                _operations.Enqueue(new(OperationKind.Parse, null, null, false, _syncsSent));
                return ClientStep.Forward;
            case PgWire.Frontend.Bind:
                _batchOpen = true;
                return PgWire.TryReadCString(start, out _, out var afterPortal) && PgWire.TryReadCString(afterPortal, out var bound, out _)
                    ? PrepareIfMissing(bound)
                    : ClientStep.Forward;
            case PgWire.Frontend.CopyData:
                // Outside a COPY (garbage, really) the session must not move between its pieces.
                _batchOpen |= IsIdle;
                return ClientStep.Forward;
            default:
                _batchOpen = true;
                return ClientStep.Forward;
        }
    }

    /// <summary>The server messages <see cref="OnServerMessage"/> acts on; any other passes without being shown to it.</summary>
    public static bool TracksServerMessage(byte type) => type is PgWire.Backend.ReadyForQuery or PgWire.Backend.ParseComplete or PgWire.Backend.CloseComplete
        or PgWire.Backend.ErrorResponse or PgWire.Backend.CommandComplete or PgWire.Backend.ParameterStatus;

    /// <summary>A server message about to go to the client: false when it answers the gateway's own re-prepared Parse and must not.</summary>
    public bool OnServerMessage(byte type, ReadOnlySpan<byte> body)
    {
        switch (type)
        {
            case PgWire.Backend.ReadyForQuery:
                OnReadyForQuery(body.Length > 0 ? (char)body[0] : 'I');
                return true;
            case PgWire.Backend.ParseComplete:
                return OnParseComplete();
            case PgWire.Backend.CloseComplete:
                OnCloseComplete();
                return true;
            case PgWire.Backend.ErrorResponse:
                _errorSinceIdle = true;
                return true;
            case PgWire.Backend.CommandComplete:
                _rolledBack = body.StartsWith("ROLLBACK"u8);
                return true;
            case PgWire.Backend.ParameterStatus:
                if (PgWire.TryReadCString(body, out var name, out var rest) && PgWire.TryReadCString(rest, out var value, out _))
                {
                    _serverParameters[Encoding.UTF8.GetString(name)] = Encoding.UTF8.GetString(value);
                }

                return true;
            default:
                return true;
        }
    }

    /// <summary>
    /// The session now runs on a new server, which has been given the startup parameters and <see cref="RestoreStatements"/>:
    /// every named prepared statement is missing there until re-prepared before the first Bind or Describe needing it.
    /// </summary>
    public void StartOnNewServer()
    {
        _operations.Clear();
        _missingOnServer.Clear();
        _missingOnServer.UnionWith(_statements.Keys);
        _pendingSyncs = 0;
        _syncsSent = _syncsDone = 0;
        _batchOpen = false;
        _errorSinceIdle = false;
        _rolledBack = false;
        _pendingEffects.Clear();
        TransactionStatus = 'I';
    }

    private void SyncPoint()
    {
        _syncsSent++;
        _pendingSyncs++;
        _batchOpen = false;
    }

    private void OnParse(ReadOnlySpan<byte> body)
    {
        if (!PgWire.TryReadCString(body, out var name, out var rest) || !PgWire.TryReadCString(rest, out var sql, out _))
        {
            _operations.Enqueue(new(OperationKind.Parse, null, null, false, _syncsSent));
            return;
        }

        ScanSql(sql);
        if (name.IsEmpty)
        {
            _operations.Enqueue(new(OperationKind.Parse, null, null, false, _syncsSent));
            return;
        }

        // Kept as the whole message, to be sent again as it is.
        _operations.Enqueue(new(OperationKind.Parse, Encoding.UTF8.GetString(name), PgWire.Message(PgWire.Frontend.Parse, body), false, _syncsSent));
    }

    private ClientStep PrepareIfMissing(ReadOnlySpan<byte> statement)
    {
        if (_missingOnServer.Count == 0 || statement.IsEmpty)
        {
            return ClientStep.Forward;
        }

        var name = Encoding.UTF8.GetString(statement);
        if (!_missingOnServer.Remove(name))
        {
            return ClientStep.Forward;
        }

        var parse = _statements[name];
        _operations.Enqueue(new(OperationKind.Parse, name, parse, true, _syncsSent));
        return new ClientStep(parse);
    }

    private bool OnParseComplete()
    {
        if (!_operations.TryDequeue(out var operation) || operation.Kind != OperationKind.Parse)
        {
            return true;
        }

        if (operation.Name is { } name && !operation.Injected && operation.Message is { } message)
        {
            _statementBytes += message.Length - (_statements.TryGetValue(name, out var previous) ? previous.Length : 0);
            _statements[name] = message;
            _missingOnServer.Remove(name);
            if (_statementBytes > MaxStatementBytes)
            {
                Unmovable |= UnmovableState.OversizedStatements;
            }
        }

        return !operation.Injected;
    }

    private void OnCloseComplete()
    {
        if (_operations.TryDequeue(out var operation) && operation is { Kind: OperationKind.Close, Name: { } name })
        {
            Forget(name);
        }
    }

    private void Forget(string statement)
    {
        if (_statements.Remove(statement, out var message))
        {
            _statementBytes -= message.Length;
        }

        _missingOnServer.Remove(statement);
    }

    private void OnReadyForQuery(char status)
    {
        if (_pendingSyncs > 0)
        {
            _pendingSyncs--;
        }

        _syncsDone++;
        // Operations of the answered batches that got no reply were skipped after an error: they never happened.
        while (_operations.TryPeek(out var operation) && operation.Batch < _syncsDone)
        {
            _operations.Dequeue();
            if (operation is { Injected: true, Name: { } name } && _statements.ContainsKey(name))
            {
                _missingOnServer.Add(name);
            }
        }

        TransactionStatus = status;
        if (status != 'I')
        {
            return;
        }

        // The transaction is over: what it changed holds if it committed, and is gone if it failed or rolled back.
        if (!_errorSinceIdle && !_rolledBack)
        {
            foreach (var effect in _pendingEffects)
            {
                Apply(effect);
            }
        }

        _pendingEffects.Clear();
        _errorSinceIdle = false;
        _rolledBack = false;
    }

    private void ScanSql(ReadOnlySpan<byte> sql)
    {
        _scratch.Clear();
        PgSqlScanner.Scan(sql, _scratch);
        foreach (var effect in _scratch)
        {
            // State that cannot move counts from the moment it may exist; what undoes it, only once committed.
            switch (effect.Kind)
            {
                case SqlEffectKind.TemporaryObject:
                    Unmovable |= UnmovableState.TemporaryObjects;
                    break;
                case SqlEffectKind.AdvisoryLock:
                    Unmovable |= UnmovableState.AdvisoryLocks;
                    break;
                case SqlEffectKind.Listen:
                    Unmovable |= UnmovableState.Listen;
                    break;
                case SqlEffectKind.HoldCursor:
                    Unmovable |= UnmovableState.HoldCursors;
                    break;
                case SqlEffectKind.SetRole:
                    Unmovable |= UnmovableState.Role;
                    break;
                default:
                    _pendingEffects.Add(effect);
                    break;
            }
        }
    }

    private void Apply(SqlEffect effect)
    {
        switch (effect.Kind)
        {
            case SqlEffectKind.Set:
                Put(_settings, effect.Name!, effect.Statement!);
                break;
            case SqlEffectKind.Reset:
                _settings.RemoveAll(s => s.Key == effect.Name);
                break;
            case SqlEffectKind.ResetAll:
                _settings.Clear();
                break;
            case SqlEffectKind.DiscardAll:
                _settings.Clear();
                _sqlPrepared.Clear();
                _statements.Clear();
                _missingOnServer.Clear();
                _statementBytes = 0;
                Unmovable &= UnmovableState.Replication | UnmovableState.Authentication;
                break;
            case SqlEffectKind.DiscardTemp:
                Unmovable &= ~UnmovableState.TemporaryObjects;
                break;
            case SqlEffectKind.Prepare:
                Put(_sqlPrepared, effect.Name!, effect.Statement!);
                break;
            case SqlEffectKind.Deallocate:
                _sqlPrepared.RemoveAll(p => p.Key == effect.Name);
                Forget(effect.Name!);
                break;
            case SqlEffectKind.DeallocateAll:
                _sqlPrepared.Clear();
                _statements.Clear();
                _missingOnServer.Clear();
                _statementBytes = 0;
                break;
            case SqlEffectKind.UnlistenAll:
                Unmovable &= ~UnmovableState.Listen;
                break;
            case SqlEffectKind.CloseAllCursors:
                Unmovable &= ~UnmovableState.HoldCursors;
                break;
            case SqlEffectKind.ResetRole:
                Unmovable &= ~UnmovableState.Role;
                break;
            case SqlEffectKind.AdvisoryUnlockAll:
                Unmovable &= ~UnmovableState.AdvisoryLocks;
                break;
        }
    }

    /// <summary>Sets a name's value, moving it to the end: the last change is repeated last.</summary>
    private static void Put(List<KeyValuePair<string, string>> list, string name, string value)
    {
        list.RemoveAll(s => s.Key == name);
        list.Add(new(name, value));
    }

    private enum OperationKind
    {
        Parse,
        Close,
    }

    /// <summary>A Parse or Close waiting for its reply; <see cref="Batch"/> is how many sync points went before it.</summary>
    private readonly record struct PendingOperation(OperationKind Kind, string? Name, byte[]? Message, bool Injected, long Batch);
}
