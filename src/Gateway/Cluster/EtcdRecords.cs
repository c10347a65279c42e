using System.Globalization;
using Gateway.Model;

namespace Gateway.Cluster;

/// <summary>
/// The records every gateway of the cluster reads (the operation history, the audit log), in etcd: one key per entry,
/// <c>{log}/{time}-{GatewayId}-{sequence}</c> under the cluster's prefix, written once by the gateway that made the
/// entry (a key nobody else can make, so no leader is needed) and read in etcd's creation order, one order for every
/// writer whatever their clocks say. The leader keeps each log to its newest <see cref="Keep"/> (<see cref="TrimAsync"/>).
/// </summary>
public sealed partial class EtcdRecords(EtcdStore store, LeaderElection election, ILogger logger, int keep = EtcdRecords.DefaultKeep) : ISharedRecords
{
    public const int DefaultKeep = 1000;

    /// <summary>A transaction carries at most 128 operations by etcd's default (--max-txn-ops); a trim deletes fewer at a time.</summary>
    private const int DeletesPerTransaction = 100;

    /// <summary>Every log lies one level below one of these: "audit/{entry}", "history/{kind}/{entry}".</summary>
    public static readonly IReadOnlyList<string> Roots = ["audit/", "history/"];

    private readonly Lock _gate = new();

    // What each log's reader has seen so far: a read asks etcd only for the entries created since.
    private readonly Dictionary<string, (long Revision, List<StoredKey> Entries)> _seen = new(StringComparer.Ordinal);
    private long _sequence;
    private long _failedAppends;

    /// <summary>Entries kept per log.</summary>
    public int Keep => keep;

    /// <summary>Entries that could not be stored in etcd since start (each is in the writer's local file and its log).</summary>
    public long FailedAppends => Interlocked.Read(ref _failedAppends);

    public bool Append(string log, string entry)
    {
        var time = store.Clock.Now().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fffffff'Z'", CultureInfo.InvariantCulture);
        var key = $"{log}/{time}-{store.Options.GatewayId}-{Interlocked.Increment(ref _sequence):D6}";
        string why;
        try
        {
            // Absent: a second process running with this gateway's id at the same instant must not overwrite an entry.
            if (Blocking(() => store.TransactAsync([Guard.Absent(key)], [Mutation.Put(key, entry)], CancellationToken.None)).Succeeded)
            {
                return true;
            }

            why = "the key exists already";
        }
        catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException)
        {
            why = e.Message;
        }

        Interlocked.Increment(ref _failedAppends);
        Log.AppendFailed(logger, store.Prefix + key, why, entry);
        return false;
    }

    public IReadOnlyList<string>? ReadNewest(string log, int count)
    {
        // Without a trusted session etcd is most likely out of reach: the status, which reads the history, must not wait for it.
        if (!election.Status.WritesAllowed)
        {
            return null;
        }

        long after;
        lock (_gate)
        {
            after = _seen.TryGetValue(log, out var seen) ? seen.Revision : 0;
        }

        PrefixSnapshot created;
        try
        {
            created = Blocking(() => store.ReadCreatedAfterAsync(log + "/", after, keysOnly: false, CancellationToken.None));
        }
        catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException)
        {
            Log.ReadFailed(logger, store.Prefix + log, e.Message);
            return null;
        }

        lock (_gate)
        {
            var (revision, entries) = _seen.TryGetValue(log, out var seen) ? seen : (0, []);
            if (created.Revision > revision)
            {
                // A concurrent read may have taken some of them already: creation revisions only grow.
                var last = entries.Count == 0 ? 0 : entries[^1].CreateRevision;
                entries.AddRange(created.Keys.Where(k => k.CreateRevision > last));
                entries.RemoveRange(0, Math.Max(0, entries.Count - keep));
                _seen[log] = (created.Revision, entries);
            }

            return [.. entries.Skip(Math.Max(0, entries.Count - count)).Select(k => k.Value)];
        }
    }

    /// <summary>
    /// The leader's housekeeping: deletes every log's entries beyond its newest <see cref="Keep"/>, oldest first, each
    /// transaction guarded by this gateway's leadership. Returns the sentence it logs, null when there was nothing to trim.
    /// </summary>
    public async Task<string?> TrimAsync(CancellationToken cancellation)
    {
        var deleted = new List<string>();
        foreach (var root in Roots)
        {
            var keys = await store.ReadCreatedAfterAsync(root, 0, keysOnly: true, cancellation);
            foreach (var log in keys.Keys.GroupBy(k => LogOf(k.Key)))
            {
                var excess = log.Take(Math.Max(0, log.Count() - keep)).ToList();
                foreach (var chunk in excess.Chunk(DeletesPerTransaction))
                {
                    Guard leads;
                    try
                    {
                        leads = election.LeadershipGuard();
                    }
                    catch (InvalidOperationException e)
                    {
                        return $"the shared records were not trimmed: {e.Message}";
                    }

                    var outcome = await store.TransactAsync([leads], [.. chunk.Select(k => Mutation.Delete(k.Key))], cancellation);
                    if (!outcome.Succeeded)
                    {
                        return $"the shared records were not trimmed: this gateway no longer leads ({deleted.Count} entries deleted before)";
                    }
                }

                if (excess.Count > 0)
                {
                    deleted.Add($"{excess.Count} of {log.Key}");
                }
            }
        }

        return deleted.Count == 0 ? null : $"kept the newest {keep} of each shared record log, deleted the oldest: {string.Join(", ", deleted)}";
    }

    /// <summary>The callers append and read synchronously; on the thread pool, so a caller's synchronization context cannot hold up the answer.</summary>
    private static T Blocking<T>(Func<Task<T>> call) => Task.Run(call).GetAwaiter().GetResult();

    /// <summary>"history/site-switch/20261207T...-gw1-000001" belongs to the log "history/site-switch".</summary>
    private static string LogOf(string key) => key[..key.LastIndexOf('/')];

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Shared record {Key} could not be stored in etcd ({Error}); it is in this gateway's local file, and here: {Entry}")]
        public static partial void AppendFailed(ILogger logger, string key, string error, string entry);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Shared records {Log} could not be read from etcd ({Error}); answering from this gateway's local file")]
        public static partial void ReadFailed(ILogger logger, string log, string error);
    }
}
