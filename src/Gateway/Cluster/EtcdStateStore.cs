using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Supervision;
using Gateway.Model;

namespace Gateway.Cluster;

/// <summary>
/// The gateway's <see cref="DurableState"/> in etcd, at /gateway/{Name}/state/current, for every gateway of the
/// cluster (a <see cref="SharedDocument{T}"/>: only the leader changes it, from the revision it decided on); the epoch
/// never goes down.
/// </summary>
public sealed class EtcdStateStore(EtcdStore store, LeaderElection election) : IDurableStateStore
{
    public const string Key = "state/current";
    public const string Prefix = "state/";

    public SharedDocument<DurableState> Document { get; } = new(store, election, Key, null);

    /// <summary>The revision of the state this gateway knows (0: none).</summary>
    public long Revision => Document.Revision;

    public DurableState? Load() => Document.Load();

    public void Save(DurableState? previous, DurableState next) =>
        Document.Save(previous, next, previous is not null && next.Epoch < previous.Epoch ? $"the epoch only grows: {previous.Epoch} cannot become {next.Epoch}" : null);

    /// <summary>Takes the state etcd holds in <paramref name="key"/> when it is newer than the one known; returns it, or null when it is not newer.</summary>
    public DurableState? Adopt(StoredKey key) => Document.Adopt(key);
}

/// <summary>The drains in etcd, at /gateway/{Name}/state/drains: every gateway routes around them, only the leader changes them.</summary>
public sealed class EtcdDrainStore(EtcdStore store, LeaderElection election) : IDrainStore
{
    public const string Key = "state/drains";

    private readonly SharedDocument<SavedDrains> _document = new(store, election, Key, SavedDrains.Of(DrainSet.Empty));

    public DrainSet? Load() => _document.Load()?.ToSet();

    public void Save(DrainSet previous, DrainSet next) => _document.Save(SavedDrains.Of(previous), SavedDrains.Of(next));

    /// <summary>Takes the drains etcd holds in <paramref name="key"/> when newer than the ones known; null when not newer.</summary>
    public DrainSet? Adopt(StoredKey key) => _document.Adopt(key)?.ToSet();
}

/// <summary>The pause of automatic failover in etcd, at /gateway/{Name}/state/pause: every gateway shows it, a new leader honours it, only the leader changes it.</summary>
public sealed class EtcdPauseStore(EtcdStore store, LeaderElection election) : IPauseStore
{
    public const string Key = "state/pause";

    private readonly SharedDocument<SavedPause> _document = new(store, election, Key, new SavedPause(null));

    public PauseStatus? Load() => _document.Load()?.Pause;

    public void Save(PauseStatus? previous, PauseStatus? next) => _document.Save(new SavedPause(previous), new SavedPause(next));

    /// <summary>Takes the pause etcd holds in <paramref name="key"/> when newer than the one known: the document (its pause null when resumed), or null when not newer.</summary>
    public SavedPause? Adopt(StoredKey key) => _document.Adopt(key);
}

/// <summary>The pause document: the pause in force, or null once resumed (the key stays, so its revision keeps growing).</summary>
public sealed record SavedPause(PauseStatus? Pause);
