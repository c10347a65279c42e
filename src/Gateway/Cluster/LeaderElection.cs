using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Cluster;

/// <summary>A snapshot of this gateway's standing in the cluster, as published after every cycle and at the fence deadline.</summary>
public sealed record LeadershipStatus(
    LeadershipRole Role,
    string Sentence,
    string? Leader,
    long LeaseId,
    DateTimeOffset? FenceAt,
    TimeSpan? LastRenewalLatency,
    long LeaderKeyCreateRevision,
    int SessionGeneration,
    DateTimeOffset At)
{
    public bool IsLeader => Role == LeadershipRole.Lead;

    public bool WritesAllowed => Role != LeadershipRole.FenceWrites;

    /// <summary>How long the session is still trusted (zero when fenced).</summary>
    public TimeSpan Remaining => FenceAt is { } fenceAt && fenceAt > At ? fenceAt - At : TimeSpan.Zero;
}

/// <summary>
/// Patroni's leader election on etcd, for gateways. Each gateway holds a session (a lease renewed every TTL/3) and
/// registers /gateway/{Name}/members/{GatewayId} under it; a gateway whose id is already registered by a live session
/// is refused. The leader key /gateway/{Name}/leader is taken with a create-if-absent transaction under the lease, so
/// it disappears with the session of a leader that dies or is cut off. What to do is decided by
/// <see cref="LeadershipDecision"/>; this class only gathers its input and carries out the campaign.
/// </summary>
public sealed partial class LeaderElection : IAsyncDisposable
{
    public const string LeaderKey = "leader";
    public const string MembersPrefix = "members/";

    private readonly EtcdStore _store;
    private readonly ClusterOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private SessionState? _session;
    private LeaderKeyState? _leaderKey;
    private TimeSpan? _lastLatency;
    private string _memberValue = "{}";
    private int _generation;
    private bool _wasLeading;
    private LeadershipStatus _status;
    private ITimer? _fenceTimer;

    public LeaderElection(EtcdStore store, ILogger? logger = null)
    {
        _store = store;
        _options = store.Options;
        _logger = logger ?? NullLogger.Instance;
        _status = new(LeadershipRole.FenceWrites, "not joined yet", null, 0, null, null, 0, 0, store.Clock.Now());
    }

    public static string MemberKey(string gatewayId) => MembersPrefix + gatewayId;

    public LeadershipStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>Raised (on the cycle's thread or the fence timer's) whenever the role or the leader changes.</summary>
    public event Action<LeadershipStatus>? Changed;

    /// <summary>
    /// The guard every leader's transaction carries: the leader key is still the one this gateway created. A write
    /// decided by a leader that has lost the key since is refused by etcd, whatever this process believes.
    /// </summary>
    public Guard LeadershipGuard()
    {
        var status = Status;
        return status.IsLeader
            ? Guard.SameKey(LeaderKey, status.LeaderKeyCreateRevision)
            : throw new InvalidOperationException($"this gateway does not lead: {status.Sentence}");
    }

    /// <summary>
    /// Starts the session and registers this gateway with <paramref name="memberValue"/> (its admin URL and the like).
    /// A registration left by this id's previous process is waited out (it expires with that process's lease, within
    /// the TTL); one kept alive by a running gateway is refused with <see cref="GatewayIdInUseException"/>.
    /// </summary>
    public async Task<string> JoinAsync(string memberValue, CancellationToken cancellation)
    {
        _memberValue = memberValue;
        var startedAt = _store.Clock.Now();
        while (true)
        {
            LeaseGrant grant;
            TxnOutcome outcome;
            try
            {
                grant = await _store.GrantLeaseAsync(_options.LeaseTtl, cancellation);
                outcome = await _store.TransactAsync([Guard.Absent(MemberKey(_options.GatewayId))],
                    [Mutation.Put(MemberKey(_options.GatewayId), memberValue, grant.Id)], cancellation);
            }
            catch (EtcdUnavailableException e) when (_store.Clock.Now() - startedAt < _options.StartupTimeout)
            {
                // A member that has just started (or a loaded one) can take longer than a request's budget for its first
                // lease; asked again until StartupTimeout, as the connection itself is. A lease granted without an answer expires.
                Log.Cycle(_logger, $"joining cluster '{_options.Name}': {e.Message}; asking again");
                await Task.Delay(_options.RenewInterval, _store.Clock.Time, cancellation);
                continue;
            }

            if (outcome.Succeeded)
            {
                SetSession(new SessionState(grant.Id, grant.Ttl, grant.SentAt), grant.Latency);
                var sentence = $"joined cluster '{_options.Name}' as gateway {_options.GatewayId} (lease {grant.Id:x}, TTL {grant.Ttl.TotalSeconds:0} s)";
                Log.Cycle(_logger, sentence);
                return sentence;
            }

            await _store.RevokeLeaseAsync(grant.Id, cancellation);
            var holder = outcome.CurrentOf(MemberKey(_options.GatewayId));
            var remaining = holder is null ? TimeSpan.Zero : await _store.LeaseRemainingAsync(holder.Lease, cancellation) ?? TimeSpan.Zero;
            var waited = _store.Clock.Now() - startedAt;
            // A dead process's registration lasts at most one TTL: waiting longer than that means its holder renews it.
            if (waited > _options.LeaseTtl + _options.RenewInterval || waited + remaining > _options.StartupTimeout + _options.LeaseTtl)
            {
                throw new GatewayIdInUseException(
                    $"gateway id '{_options.GatewayId}' is in use: {_store.Prefix}{MemberKey(_options.GatewayId)} is held under lease {holder?.Lease:x} "
                    + $"and was renewed for {waited.TotalSeconds:0.#} s while this gateway waited for it to expire; another running gateway has this id "
                    + "(give each gateway its own Gateway:Cluster:GatewayId)");
            }

            Log.Cycle(_logger, $"gateway id '{_options.GatewayId}' is still registered under lease {holder?.Lease:x} ({remaining.TotalSeconds:0} s left): waiting for it to expire");
            await Task.Delay(_options.RenewInterval, _store.Clock.Time, cancellation);
        }
    }

    /// <summary>
    /// One cycle: renews the session (or starts a new one after it was lost), reads the leader key, takes it when
    /// nobody holds it, and publishes the verdict. Returns the sentence it logs.
    /// </summary>
    public async Task<string> CycleAsync(CancellationToken cancellation)
    {
        var problems = new List<string>();
        await RenewOrRejoinAsync(problems, cancellation);
        await ReadLeaderKeyAsync(problems, cancellation);
        var verdict = Judge();
        if (verdict.Role == LeadershipRole.Campaign)
        {
            await CampaignAsync(problems, cancellation);
            verdict = Judge();
        }

        var sentence = problems.Count == 0 ? verdict.Sentence : $"{verdict.Sentence} ({string.Join("; ", problems)})";
        Publish(verdict, sentence);
        Log.Cycle(_logger, sentence);
        return sentence;
    }

    /// <summary>
    /// Runs cycles every RenewInterval until cancelled, at once when the leader key changes, and re-judges at the
    /// fence deadline even if a cycle is stuck in a call (so writes stop on time, not at the next cycle).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        var watch = WatchLeaderKeyAsync(cancellation);
        var due = _store.Clock.Now();
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                // Renewals at a fixed rate, not a fixed pause after each cycle: a cycle that waited on a silent member
                // must not push the next renewal towards the fence deadline.
                due += _options.RenewInterval;
                try
                {
                    await CycleAsync(cancellation);
                }
                catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException or LeaseLostException)
                {
                    Log.Cycle(_logger, $"election cycle failed: {e.Message}");
                }

                ArmFenceTimer();
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                var now = _store.Clock.Now();
                due = due > now ? due : now;
                var delay = Task.Delay(due - now, _store.Clock.Time, tick.Token);
                await Task.WhenAny(delay, _wake.WaitAsync(tick.Token));
                await tick.CancelAsync();
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Stopped.
        }
        finally
        {
            await watch;
        }
    }

    /// <summary>Gives up leadership and the session at once (a clean stop): the leader key goes, another gateway can take it now.</summary>
    public async Task<string> ResignAsync(CancellationToken cancellation)
    {
        var status = Status;
        if (status.IsLeader)
        {
            await _store.TransactAsync([Guard.SameKey(LeaderKey, status.LeaderKeyCreateRevision)], [Mutation.Delete(LeaderKey)], cancellation);
        }

        if (status.LeaseId != 0)
        {
            await _store.RevokeLeaseAsync(status.LeaseId, cancellation);
        }

        lock (_gate)
        {
            _session = null;
        }

        var sentence = status.IsLeader ? "resigned the leadership and ended the session" : "ended the session";
        Publish(new(LeadershipRole.FenceWrites, sentence, null), sentence);
        Log.Cycle(_logger, sentence);
        return sentence;
    }

    private async Task RenewOrRejoinAsync(List<string> problems, CancellationToken cancellation)
    {
        SessionState? session;
        lock (_gate)
        {
            session = _session;
        }

        try
        {
            if (session is null)
            {
                await RejoinAsync(problems, cancellation);
                return;
            }

            var renewal = await _store.RenewLeaseAsync(session.LeaseId, _options.RenewInterval, cancellation);
            SetSession(session with { GrantedTtl = renewal.Ttl, RenewalSentAt = renewal.SentAt }, renewal.Latency);
        }
        catch (LeaseLostException e)
        {
            lock (_gate)
            {
                _session = null;
            }

            problems.Add(e.Message);
        }
        catch (EtcdUnavailableException e)
        {
            problems.Add($"renewal failed: {e.Message}");
        }
    }

    /// <summary>A new session after the old one was lost: its registration went with it and is made again.</summary>
    private async Task RejoinAsync(List<string> problems, CancellationToken cancellation)
    {
        var grant = await _store.GrantLeaseAsync(_options.LeaseTtl, cancellation);
        var outcome = await _store.TransactAsync([Guard.Absent(MemberKey(_options.GatewayId))],
            [Mutation.Put(MemberKey(_options.GatewayId), _memberValue, grant.Id)], cancellation);
        if (!outcome.Succeeded)
        {
            await _store.RevokeLeaseAsync(grant.Id, cancellation);
            problems.Add($"gateway id '{_options.GatewayId}' was registered by another session meanwhile (lease {outcome.CurrentOf(MemberKey(_options.GatewayId))?.Lease:x}): no new session");
            return;
        }

        SetSession(new SessionState(grant.Id, grant.Ttl, grant.SentAt), grant.Latency);
        problems.Add($"new session: lease {grant.Id:x}");
    }

    private async Task ReadLeaderKeyAsync(List<string> problems, CancellationToken cancellation)
    {
        try
        {
            var key = await _store.ReadKeyAsync(LeaderKey, cancellation);
            lock (_gate)
            {
                _leaderKey = key is null ? null : new LeaderKeyState(key.Value, key.Lease, key.CreateRevision);
            }
        }
        catch (EtcdUnavailableException e)
        {
            // The last known holder stays: with no answer the session fences on time anyway.
            problems.Add($"leader key not read: {e.Message}");
        }
    }

    private async Task CampaignAsync(List<string> problems, CancellationToken cancellation)
    {
        SessionState? session;
        LeaderKeyState? known;
        lock (_gate)
        {
            session = _session;
            known = _leaderKey;
        }

        if (session is null)
        {
            return;
        }

        // Free: create-if-absent. Held by this gateway's earlier session: the very same key, moved to this session's lease.
        Guard[] guards = known is null
            ? [Guard.Absent(LeaderKey)]
            : [Guard.SameKey(LeaderKey, known.CreateRevision), Guard.Holds(LeaderKey, _options.GatewayId)];
        try
        {
            var outcome = await _store.TransactAsync(guards, [Mutation.Put(LeaderKey, _options.GatewayId, session.LeaseId)], cancellation);
            var current = outcome.Succeeded ? await _store.ReadKeyAsync(LeaderKey, cancellation) : outcome.CurrentOf(LeaderKey);
            lock (_gate)
            {
                _leaderKey = current is null ? null : new LeaderKeyState(current.Value, current.Lease, current.CreateRevision);
            }
        }
        catch (EtcdUnavailableException e)
        {
            problems.Add($"campaign failed: {e.Message}");
        }
        catch (LeaseLostException e)
        {
            lock (_gate)
            {
                _session = null;
            }

            problems.Add(e.Message);
        }
    }

    private LeadershipVerdict Judge()
    {
        lock (_gate)
        {
            return LeadershipDecision.Decide(new(_options.GatewayId, _store.Clock.Now(), _session, _leaderKey, _wasLeading));
        }
    }

    private void SetSession(SessionState session, TimeSpan latency)
    {
        lock (_gate)
        {
            if (_status.Role == LeadershipRole.FenceWrites || _session?.LeaseId != session.LeaseId)
            {
                _generation++;
            }

            _session = session;
            _lastLatency = latency;
        }
    }

    private void Publish(LeadershipVerdict verdict, string sentence)
    {
        LeadershipStatus status;
        bool changed;
        lock (_gate)
        {
            var leader = verdict.Role == LeadershipRole.FenceWrites ? null : _leaderKey?.Owner;
            status = new(verdict.Role, sentence, leader, _session?.LeaseId ?? 0, verdict.FenceAt, _lastLatency,
                verdict.Role == LeadershipRole.Lead ? _leaderKey!.CreateRevision : 0, _generation, _store.Clock.Now());
            changed = status.Role != _status.Role || status.Leader != _status.Leader || status.LeaseId != _status.LeaseId;
            _wasLeading = verdict.Role == LeadershipRole.Lead;
            _status = status;
        }

        if (changed)
        {
            Changed?.Invoke(status);
        }
    }

    /// <summary>A timer at the fence deadline: if no renewal has moved it by then, the verdict turns to FenceWrites at that moment.</summary>
    private void ArmFenceTimer()
    {
        var fenceAt = Status.FenceAt;
        _fenceTimer?.Dispose();
        if (fenceAt is null)
        {
            return;
        }

        var due = fenceAt.Value - _store.Clock.Now();
        _fenceTimer = _store.Clock.Time.CreateTimer(_ => Reevaluate(), null, due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Judges again from what is known, without asking etcd: only time has passed.</summary>
    internal string Reevaluate()
    {
        var verdict = Judge();
        if (verdict.Role != Status.Role)
        {
            Publish(verdict, verdict.Sentence);
            Log.Cycle(_logger, verdict.Sentence);
        }

        return verdict.Sentence;
    }

    /// <summary>Wakes the cycle loop as soon as the leader key changes (deleted with a dead leader's lease), instead of at the next tick.</summary>
    private async Task WatchLeaderKeyAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                var read = await _store.ReadPrefixAsync(LeaderKey, cancellation);
                await foreach (var _ in _store.WatchAsync(LeaderKey, read.Revision, cancellation))
                {
                    if (_wake.CurrentCount == 0)
                    {
                        try
                        {
                            _wake.Release();
                        }
                        catch (SemaphoreFullException)
                        {
                            // Already woken.
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is EtcdUnavailableException or WatchCompactedException or EtcdRefusedException)
            {
                Log.Cycle(_logger, $"watch of the leader key restarts: {e.Message}");
                try
                {
                    await Task.Delay(_options.RenewInterval, _store.Clock.Time, cancellation);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_fenceTimer is not null)
        {
            await _fenceTimer.DisposeAsync();
        }

        _wake.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "cluster: {Sentence}")]
        public static partial void Cycle(ILogger logger, string sentence);
    }
}
