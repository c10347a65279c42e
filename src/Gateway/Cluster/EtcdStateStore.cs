using System.Text.Json;
using Gateway.Model;

namespace Gateway.Cluster;

/// <summary>The shared state in etcd changed since the change was decided, or this gateway no longer leads: the change was not saved.</summary>
public sealed class StateNotSavedException(string message) : Exception(message);

/// <summary>
/// The gateway's <see cref="DurableState"/> in etcd, at /gateway/{Name}/state/current, for every gateway of the cluster.
/// A change is one transaction guarded by the revision of the state it was decided from and by the leader's
/// <see cref="LeaderElection.LeadershipGuard"/>, so a stale decision or a deposed leader writes nothing; the epoch
/// never goes down. Followers take the leader's changes from a watch (<see cref="Adopt"/>).
/// </summary>
public sealed class EtcdStateStore(EtcdStore store, LeaderElection election) : IDurableStateStore
{
    public const string Key = "state/current";
    public const string Prefix = "state/";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();

    // The state as last read, saved or adopted, and the revision etcd holds it at: the base the next change is guarded by.
    private DurableState? _known;
    private long _revision;

    /// <summary>The revision of the state this gateway knows (0: none).</summary>
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

    public DurableState? Load()
    {
        var key = store.ReadKeyAsync(Key, CancellationToken.None).GetAwaiter().GetResult();
        return key is null ? null : Adopt(key) ?? _known;
    }

    public void Save(DurableState? previous, DurableState next)
    {
        DurableState? known;
        long revision;
        lock (_gate)
        {
            (known, revision) = (_known, _revision);
        }

        // By value: the state this gateway holds in memory may be another copy of the same saved state.
        if (!Equals(previous, known))
        {
            throw new StateNotSavedException($"the shared state changed (to revision {revision}, epoch {known?.Epoch}) after this change was decided from epoch {previous?.Epoch}: not saved, decide again");
        }

        if (previous is not null && next.Epoch < previous.Epoch)
        {
            throw new StateNotSavedException($"the epoch only grows: {previous.Epoch} cannot become {next.Epoch}");
        }

        // The very first state needs no leader (every gateway may create it, one wins); every change after it does.
        Guard[] guards = previous is null
            ? [Guard.Absent(Key)]
            : [Guard.Unchanged(Key, revision), LeadershipGuardOrRefuse()];
        var outcome = store.TransactAsync(guards, [Mutation.Put(Key, JsonSerializer.Serialize(next, Json))], CancellationToken.None).GetAwaiter().GetResult();
        if (!outcome.Succeeded)
        {
            // Not adopted here: the watch takes the newer state into the store and the gateway's memory together.
            var current = outcome.CurrentOf(Key);
            throw new StateNotSavedException(current is null || current.ModRevision == revision
                ? $"this gateway no longer leads the cluster (the leader key changed): the change to epoch {next.Epoch} was not saved"
                : $"the shared state changed in etcd (revision {current.ModRevision}) after this change was decided from revision {revision}: not saved");
        }

        lock (_gate)
        {
            (_known, _revision) = (next, outcome.Revision);
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

    /// <summary>Takes the state etcd holds in <paramref name="key"/> when it is newer than the one known; returns it, or null when it is not newer.</summary>
    public DurableState? Adopt(StoredKey key)
    {
        var state = JsonSerializer.Deserialize<DurableState>(key.Value, Json)
            ?? throw new InvalidDataException($"etcd key {store.Prefix}{Key} is empty");
        lock (_gate)
        {
            if (key.ModRevision <= _revision)
            {
                return null;
            }

            (_known, _revision) = (state, key.ModRevision);
            return state;
        }
    }
}
