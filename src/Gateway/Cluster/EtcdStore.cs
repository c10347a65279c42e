using System.Runtime.CompilerServices;
using System.Threading.Channels;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mvccpb;

namespace Gateway.Cluster;

/// <summary>
/// What the gateway needs from etcd, over dotnet-etcd, confined to the cluster's prefix /gateway/{Name}/ (every key
/// in and out of this class is relative to it): read a prefix with its revision, guarded transactions, leases, and
/// ordered watches that resume after a reconnect. Calls go to one member at a time and move on to the next when it
/// fails (<see cref="EtcdEndpoints"/>).
/// </summary>
public sealed partial class EtcdStore : IDisposable
{
    private readonly EtcdEndpoints _endpoints;
    private readonly ILogger _logger;

    private EtcdStore(ClusterOptions options, TimeProvider time, ILogger? logger)
    {
        Options = options;
        Clock = new ClusterClock(time);
        Prefix = $"/gateway/{options.Name}/";
        _endpoints = new EtcdEndpoints(options.Etcd, time);
        _logger = logger ?? NullLogger.Instance;
    }

    public ClusterOptions Options { get; }

    public ClusterClock Clock { get; }

    /// <summary>The cluster's prefix in etcd, "/gateway/{Name}/".</summary>
    public string Prefix { get; }

    public IReadOnlyList<string> Endpoints => _endpoints.Urls;

    /// <summary>Requests and watch streams that failed on a member since start (a member down, frozen, or without a leader).</summary>
    public long FailedRequests => _endpoints.FailedRequests;

    /// <summary>The member calls go to first: the last one that answered.</summary>
    public string PreferredEndpoint => _endpoints.Preferred;

    /// <summary>
    /// Connects: waits until some endpoint answers (at most StartupTimeout, else <see cref="EtcdUnavailableException"/>
    /// naming every endpoint and why it failed), then checks the prefix's identity key, claiming an empty prefix
    /// (<see cref="ClusterIdentityException"/> for another cluster's prefix or a newer schema).
    /// </summary>
    public static async Task<EtcdStore> ConnectAsync(ClusterOptions options, TimeProvider time, ILogger? logger, CancellationToken cancellation)
    {
        var store = new EtcdStore(options, time, logger);
        try
        {
            await store.WaitForAnswerAsync(cancellation);
            await store._endpoints.WarmUpAsync(store.Prefix + ClusterIdentity.Key, cancellation);
            var sentence = await store.EnsureIdentityAsync(cancellation);
            Log.Connected(store._logger, sentence);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private async Task WaitForAnswerAsync(CancellationToken cancellation)
    {
        var startedAt = Clock.Time.GetTimestamp();
        var lastFailures = new Dictionary<string, string>();
        while (true)
        {
            var remaining = Options.StartupTimeout - Clock.Time.GetElapsedTime(startedAt);
            try
            {
                await CallAsync("a read at start", a => a.Client.GetAsync(Prefix + ClusterIdentity.Key, a.Headers, a.Deadline, a.Cancellation),
                    resendable: true, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellation);
                return;
            }
            catch (EtcdUnavailableException e)
            {
                foreach (var failure in e.Failures)
                {
                    var endpoint = failure.Split(": ", 2)[0];
                    lastFailures[endpoint] = failure;
                }
            }

            if (Clock.Time.GetElapsedTime(startedAt) >= Options.StartupTimeout)
            {
                var why = string.Join("; ", Endpoints.Select(url => lastFailures.GetValueOrDefault(url, $"{url}: not tried")));
                throw new EtcdUnavailableException($"start-up (no endpoint answered within {Options.StartupTimeout.TotalSeconds:0.#} s; Gateway:Cluster:Etcd:Endpoints = {string.Join(", ", Endpoints)})",
                    [why]);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), Clock.Time, cancellation);
        }
    }

    /// <summary>Checks (or claims) the identity key; returns the sentence it logs, throws <see cref="ClusterIdentityException"/> to refuse.</summary>
    public async Task<string> EnsureIdentityAsync(CancellationToken cancellation)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var snapshot = await ReadPrefixAsync("", cancellation);
            var meta = snapshot.Find(ClusterIdentity.Key);
            var (verdict, sentence) = ClusterIdentity.Judge(Options.Name, Prefix, meta, snapshot.Keys.Count > (meta is null ? 0 : 1));
            switch (verdict)
            {
                case IdentityVerdict.Matches:
                    return sentence;
                case IdentityVerdict.Refuse:
                    throw new ClusterIdentityException(sentence);
            }

            // Another gateway may claim it at the same moment: the loser reads the winner's key and judges again.
            var claim = await TransactAsync([Guard.Absent(ClusterIdentity.Key), Guard.NothingChangedSince("", snapshot.Revision)],
                [Mutation.Put(ClusterIdentity.Key, ClusterIdentity.Encode(Options.Name))], cancellation);
            if (claim.Succeeded)
            {
                return sentence;
            }
        }

        throw new ClusterIdentityException($"etcd prefix {Prefix} kept changing while its identity key was being claimed: refusing to start");
    }

    /// <summary>Every key under <paramref name="prefix"/> (relative; "" for all), linearizable, with the revision it was read at.</summary>
    public async Task<PrefixSnapshot> ReadPrefixAsync(string prefix, CancellationToken cancellation)
    {
        var key = ByteString.CopyFromUtf8(Prefix + prefix);
        var request = new RangeRequest { Key = key, RangeEnd = RangeEnd(key) };
        var response = await CallAsync($"a read of {Prefix}{prefix}", a => a.Client.GetAsync(request, a.Headers, a.Deadline, a.Cancellation), resendable: true, null, cancellation);
        return new PrefixSnapshot(response.Header.Revision, [.. response.Kvs.Select(ToStored)]);
    }

    /// <summary>
    /// The keys under <paramref name="prefix"/> changed after <paramref name="afterRevision"/> (0: all), oldest created
    /// first, linearizable; without their values when <paramref name="keysOnly"/>. For logs whose entries are written
    /// once: etcd's creation order is one order for every writer, whatever their clocks say.
    /// </summary>
    public async Task<PrefixSnapshot> ReadCreatedAfterAsync(string prefix, long afterRevision, bool keysOnly, CancellationToken cancellation)
    {
        var key = ByteString.CopyFromUtf8(Prefix + prefix);
        var request = new RangeRequest
        {
            Key = key,
            RangeEnd = RangeEnd(key),
            MinModRevision = afterRevision + 1,
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Ascend,
            KeysOnly = keysOnly,
        };
        var response = await CallAsync($"a read of {Prefix}{prefix}", a => a.Client.GetAsync(request, a.Headers, a.Deadline, a.Cancellation), resendable: true, null, cancellation);
        return new PrefixSnapshot(response.Header.Revision, [.. response.Kvs.Select(ToStored)]);
    }

    /// <summary>One key (relative), or null when absent.</summary>
    public async Task<StoredKey?> ReadKeyAsync(string key, CancellationToken cancellation)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(Prefix + key) };
        var response = await CallAsync($"a read of {Prefix}{key}", a => a.Client.GetAsync(request, a.Headers, a.Deadline, a.Cancellation), resendable: true, null, cancellation);
        return response.Kvs.Count == 0 ? null : ToStored(response.Kvs[0]);
    }

    /// <summary>
    /// Writes <paramref name="writes"/> atomically if every guard holds; otherwise writes nothing and returns the guarded
    /// keys' current values. Sent to one member only unless it surely never arrived: on <see cref="EtcdUnavailableException"/>
    /// the outcome is unknown and the caller re-reads. A put under a lease that no longer exists throws <see cref="LeaseLostException"/>.
    /// </summary>
    public async Task<TxnOutcome> TransactAsync(IReadOnlyList<Guard> guards, IReadOnlyList<Mutation> writes, CancellationToken cancellation)
    {
        var request = new TxnRequest();
        request.Compare.AddRange(guards.Select(ToCompare));
        request.Success.AddRange(writes.Select(ToRequestOp));
        var readBack = guards.Where(g => g is not RangeGuard).Select(g => g.Key).Distinct().ToList();
        request.Failure.AddRange(readBack.Select(key => new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(Prefix + key) } }));
        TxnResponse response;
        try
        {
            response = await CallAsync($"a transaction on {Prefix} ({string.Join(", ", writes.Select(w => w.Key))})",
                a => a.Client.TransactionAsync(request, a.Headers, a.Deadline, a.Cancellation), resendable: false, null, cancellation);
        }
        catch (EtcdRefusedException e) when (e.Reason.Contains("lease not found", StringComparison.Ordinal))
        {
            throw new LeaseLostException(writes.OfType<PutMutation>().Select(p => p.Lease).FirstOrDefault(l => l != 0), "a transaction");
        }

        var current = new Dictionary<string, StoredKey?>();
        if (!response.Succeeded)
        {
            for (var i = 0; i < readBack.Count; i++)
            {
                var kvs = response.Responses[i].ResponseRange.Kvs;
                current[readBack[i]] = kvs.Count == 0 ? null : ToStored(kvs[0]);
            }
        }

        return new TxnOutcome(response.Succeeded, response.Header.Revision, current);
    }

    /// <summary>Grants a lease of <paramref name="ttl"/> (whole seconds); etcd may grant more, and the grant says how much.</summary>
    public Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellation) =>
        CallAsync("a lease grant", async a =>
        {
            var sentAt = Clock.Now();
            var response = await a.Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, a.Headers, a.Deadline, a.Cancellation);
            if (!string.IsNullOrEmpty(response.Error))
            {
                throw new EtcdRefusedException("a lease grant", a.Endpoint, response.Error);
            }

            return new LeaseGrant(response.ID, TimeSpan.FromSeconds(response.TTL), sentAt, Clock.Now() - sentAt);
        }, resendable: true, null, cancellation);

    /// <summary>
    /// One keep-alive of lease <paramref name="leaseId"/>, tried on the members in turn within <paramref name="budget"/>.
    /// Returns the TTL etcd restarted it with, measured from when the answered request was sent; a lease etcd no longer
    /// has throws <see cref="LeaseLostException"/>.
    /// </summary>
    public async Task<LeaseRenewal> RenewLeaseAsync(long leaseId, TimeSpan budget, CancellationToken cancellation)
    {
        var renewal = await CallAsync("a lease keep-alive", async a =>
        {
            var sentAt = Clock.Now();
            using var call = a.Client.GetConnection().LeaseClient.LeaseKeepAlive(a.Headers, a.Deadline, a.Cancellation);
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = leaseId }, a.Cancellation);
            await call.RequestStream.CompleteAsync();
            if (!await call.ResponseStream.MoveNext(a.Cancellation))
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "the keep-alive stream ended without an answer"));
            }

            var answer = call.ResponseStream.Current;
            return new LeaseRenewal(leaseId, TimeSpan.FromSeconds(answer.TTL), sentAt, Clock.Now() - sentAt);
        }, resendable: true, budget, cancellation);
        return renewal.Ttl > TimeSpan.Zero ? renewal : throw new LeaseLostException(leaseId, "a keep-alive");
    }

    /// <summary>Ends the lease now: every key under it is deleted at once (a clean stop, instead of waiting for the TTL).</summary>
    public Task RevokeLeaseAsync(long leaseId, CancellationToken cancellation) =>
        CallAsync("a lease revoke", async a =>
        {
            try
            {
                return await a.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId }, a.Headers, a.Deadline, a.Cancellation);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // Already gone: what a revoke wanted.
                return null;
            }
        }, resendable: true, null, cancellation);

    /// <summary>How long etcd will still keep lease <paramref name="leaseId"/>, or null when it no longer has it.</summary>
    public async Task<TimeSpan?> LeaseRemainingAsync(long leaseId, CancellationToken cancellation)
    {
        var response = await CallAsync("a lease time-to-live query",
            a => a.Client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = leaseId }, a.Headers, a.Deadline, a.Cancellation), resendable: true, null, cancellation);
        return response.TTL > 0 ? TimeSpan.FromSeconds(response.TTL) : null;
    }

    /// <summary>
    /// The changes under <paramref name="prefix"/> (relative) after revision <paramref name="afterRevision"/>, in revision
    /// order, until cancelled. A lost connection, a frozen member or one without a leader is left for the next member
    /// and the watch resumes after the last revision delivered, so nothing is skipped or repeated; if etcd has compacted
    /// that history away the enumeration ends with <see cref="WatchCompactedException"/>.
    /// </summary>
    public async IAsyncEnumerable<WatchBatch> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var batches = Channel.CreateUnbounded<WatchBatch>(new() { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var pump = PumpWatchAsync(prefix, afterRevision, batches.Writer, stop.Token);
        try
        {
            await foreach (var batch in batches.Reader.ReadAllAsync(cancellation))
            {
                yield return batch;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pump;
        }
    }

    private async Task PumpWatchAsync(string prefix, long afterRevision, ChannelWriter<WatchBatch> output, CancellationToken cancellation)
    {
        var next = afterRevision + 1;
        Exception? ended = null;
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                var (sentence, resumeAt) = await RunWatchStreamAsync(prefix, next, output, cancellation);
                next = resumeAt;
                if (!cancellation.IsCancellationRequested)
                {
                    Log.WatchInterrupted(_logger, sentence);
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Clock.Time, cancellation);
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Stopped by the reader.
        }
        catch (WatchCompactedException e)
        {
            ended = e;
        }

        output.TryComplete(ended);
    }

    /// <summary>
    /// One watch stream on one member, from revision <paramref name="from"/>, until it fails. Returns the sentence it
    /// logs about why it ended and the revision to resume from.
    /// </summary>
    internal async Task<(string Sentence, long ResumeAt)> RunWatchStreamAsync(string prefix, long from, ChannelWriter<WatchBatch> output, CancellationToken cancellation)
    {
        var (index, url, client, headers) = _endpoints.PickForStream();
        var key = ByteString.CopyFromUtf8(Prefix + prefix);
        var next = from;
        using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        try
        {
            using var call = client.GetConnection().WatchClient.Watch(headers, null, streamStop.Token);
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = RangeEnd(key), StartRevision = from },
            }, cancellation);
            await WaitForCreatedAsync(call.ResponseStream, url, streamStop);
            while (await call.ResponseStream.MoveNext(cancellation))
            {
                var response = call.ResponseStream.Current;
                if (response.Canceled)
                {
                    if (response.CompactRevision > 0)
                    {
                        throw new WatchCompactedException(Prefix + prefix, next, response.CompactRevision);
                    }

                    _endpoints.Failed(index);
                    return ($"the watch of {Prefix}{prefix} on {url} was cancelled by etcd ({response.CancelReason}); resuming at revision {next} on {_endpoints.Preferred}", next);
                }

                if (response.Events.Count == 0)
                {
                    continue;
                }

                var changes = response.Events.Select(e => new KeyChange(ToStored(e.Kv), e.Type == Event.Types.EventType.Delete)).ToList();
                var last = response.Events[^1].Kv.ModRevision;
                await output.WriteAsync(new WatchBatch(last, changes), cancellation);
                next = last + 1;
            }

            _endpoints.Failed(index);
            return ($"the watch of {Prefix}{prefix} on {url} ended; resuming at revision {next} on {_endpoints.Preferred}", next);
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && EtcdEndpoints.Classify(e, Options.Etcd.RequestTimeout) is { Refusal: null } failure)
        {
            _endpoints.Failed(index);
            return ($"the watch of {Prefix}{prefix} on {url} failed ({failure.Description}); resuming at revision {next} on {_endpoints.Preferred}", next);
        }
    }

    /// <summary>The member must confirm the watch within RequestTimeout: a frozen member accepts the stream but never does.</summary>
    private async Task WaitForCreatedAsync(IAsyncStreamReader<WatchResponse> responses, string url, CancellationTokenSource streamStop)
    {
        streamStop.CancelAfter(Options.Etcd.RequestTimeout);
        if (!await responses.MoveNext(streamStop.Token))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"{url} closed the watch stream before confirming it"));
        }

        if (!responses.Current.Created)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"{url} answered a watch with something other than its confirmation"));
        }

        if (responses.Current.Canceled && responses.Current.CompactRevision > 0)
        {
            throw new WatchCompactedException(url, 0, responses.Current.CompactRevision);
        }

        // Confirmed: from here the stream lives as long as the connection (HTTP/2 pings find a silent one).
        streamStop.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    private Task<T> CallAsync<T>(string operation, Func<EtcdAttempt, Task<T>> call, bool resendable, TimeSpan? budget, CancellationToken cancellation) =>
        _endpoints.CallAsync(operation, call, resendable, budget, cancellation);

    private StoredKey ToStored(KeyValue kv) =>
        new(kv.Key.ToStringUtf8()[Prefix.Length..], kv.Value.ToStringUtf8(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    private Compare ToCompare(Guard guard)
    {
        var key = ByteString.CopyFromUtf8(Prefix + guard.Key);
        return guard switch
        {
            ModRevisionGuard g => new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = g.ModRevision },
            CreateRevisionGuard g => new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = g.CreateRevision },
            // Every key in the range was last modified before revision + 1; an empty range compares as never modified.
            RangeGuard g => new Compare { Key = key, RangeEnd = RangeEnd(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Less, ModRevision = g.Revision + 1 },
            ValueGuard g => new Compare { Key = key, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = ByteString.CopyFromUtf8(g.Value) },
            _ => throw new ArgumentOutOfRangeException(nameof(guard), guard, "unknown guard"),
        };
    }

    private RequestOp ToRequestOp(Mutation mutation) => mutation switch
    {
        PutMutation put => new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(Prefix + put.Key), Value = ByteString.CopyFromUtf8(put.Value), Lease = put.Lease } },
        DeleteMutation delete => new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(Prefix + delete.Key) } },
        _ => throw new ArgumentOutOfRangeException(nameof(mutation), mutation, "unknown mutation"),
    };

    /// <summary>The end of the range of keys that start with <paramref name="key"/>.</summary>
    private static ByteString RangeEnd(ByteString key) => EtcdClient.GetRangeEnd(key);

    public void Dispose() => _endpoints.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "etcd: {Sentence}")]
        public static partial void Connected(ILogger logger, string sentence);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "etcd: {Sentence}")]
        public static partial void WatchInterrupted(ILogger logger, string sentence);
    }
}
