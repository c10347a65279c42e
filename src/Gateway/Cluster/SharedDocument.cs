using System.Text.Json;

namespace Gateway.Cluster;

/// <summary>The shared state in etcd changed since the change was decided, or this gateway no longer leads: the change was not saved.</summary>
public sealed class StateNotSavedException(string message) : Exception(message);

/// <summary>
/// One JSON document under the cluster's prefix that every gateway reads and only the leader changes. A change is one
/// transaction guarded by the revision of the document it was decided from and by the leader's
/// <see cref="LeaderElection.LeadershipGuard"/>, so a stale decision or a deposed leader writes nothing. Followers take
/// the leader's changes from a watch (<see cref="Adopt"/>).
/// </summary>
/// <param name="initial">What the document is while etcd does not hold it yet (null: nothing; its first save needs no leader).</param>
public sealed class SharedDocument<T>(EtcdStore store, LeaderElection election, string key, T? initial) where T : class
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();

    // The document as last read, saved or adopted, and the revision etcd holds it at (0: absent): the base the next change is guarded by.
    private T? _known = initial;
    private long _revision;

    public string Key => key;

    /// <summary>The revision of the document this gateway knows (0: absent).</summary>
    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    /// <summary>The document etcd holds now (linearizable), or null when it holds none.</summary>
    public T? Load()
    {
        var stored = store.ReadKeyAsync(key, CancellationToken.None).GetAwaiter().GetResult();
        if (stored is null)
        {
            return null;
        }

        Adopt(stored);
        lock (_gate)
        {
            return _known;
        }
    }

    /// <summary>
    /// Saves <paramref name="next"/>, decided from <paramref name="previous"/>, or throws <see cref="StateNotSavedException"/>:
    /// etcd holds another document by now, this gateway does not lead, or <paramref name="refusal"/> names a reason.
    /// </summary>
    public void Save(T? previous, T next, string? refusal = null)
    {
        T? known;
        long revision;
        lock (_gate)
        {
            (known, revision) = (_known, _revision);
        }

        // By value: the gateway's memory may hold another copy of the same saved document.
        if (Text(previous) != Text(known))
        {
            throw new StateNotSavedException($"{store.Prefix}{key} changed (to revision {revision}) after this change was decided from an older copy: not saved, decide again");
        }

        if (refusal is not null)
        {
            throw new StateNotSavedException(refusal);
        }

        // The very first document needs no leader (every gateway may create it, one wins); every change after it does.
        Guard[] guards = previous is null ? [Guard.Absent(key)] : [Guard.Unchanged(key, revision), LeadershipGuardOrRefuse()];
        var outcome = store.TransactAsync(guards, [Mutation.Put(key, Text(next))], CancellationToken.None).GetAwaiter().GetResult();
        if (!outcome.Succeeded)
        {
            // Not adopted here: the watch takes the newer document into this and the gateway's memory together.
            var current = outcome.CurrentOf(key);
            throw new StateNotSavedException(current is null || current.ModRevision == revision
                ? $"this gateway no longer leads the cluster (the leader key changed): {store.Prefix}{key} was not changed"
                : $"{store.Prefix}{key} changed in etcd (revision {current.ModRevision}) after this change was decided from revision {revision}: not saved");
        }

        lock (_gate)
        {
            (_known, _revision) = (next, outcome.Revision);
        }
    }

    /// <summary>
    /// Saves <paramref name="next"/> over whatever etcd holds, guarded by leadership alone: for a document only the
    /// leader writes and no change is decided from (progress); throws <see cref="StateNotSavedException"/> when this
    /// gateway does not lead.
    /// </summary>
    public async Task OverwriteAsync(T next, CancellationToken cancellation)
    {
        var outcome = await store.TransactAsync([LeadershipGuardOrRefuse()], [Mutation.Put(key, Text(next))], cancellation);
        if (!outcome.Succeeded)
        {
            throw new StateNotSavedException($"this gateway no longer leads the cluster (the leader key changed): {store.Prefix}{key} was not changed");
        }

        lock (_gate)
        {
            if (outcome.Revision > _revision)
            {
                (_known, _revision) = (next, outcome.Revision);
            }
        }
    }

    /// <summary>Takes the document etcd holds in <paramref name="stored"/> when it is newer than the one known; returns it, or null when it is not newer.</summary>
    public T? Adopt(StoredKey stored)
    {
        var document = JsonSerializer.Deserialize<T>(stored.Value, Json)
            ?? throw new InvalidDataException($"etcd key {store.Prefix}{key} is empty");
        lock (_gate)
        {
            if (stored.ModRevision <= _revision)
            {
                return null;
            }

            (_known, _revision) = (document, stored.ModRevision);
            return document;
        }
    }

    private Guard LeadershipGuardOrRefuse()
    {
        try
        {
            return election.LeadershipGuard();
        }
        catch (InvalidOperationException e)
        {
            throw new StateNotSavedException($"only the leader changes the shared state: {e.Message}");
        }
    }

    private static string Text(T? document) => document is null ? "" : JsonSerializer.Serialize(document, Json);
}
