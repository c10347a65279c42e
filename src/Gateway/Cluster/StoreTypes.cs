namespace Gateway.Cluster;

/// <summary>
/// One key under the cluster's prefix as etcd holds it. <see cref="Key"/> is relative to the prefix ("members/gw-a").
/// <see cref="ModRevision"/> is the revision of its last change, <see cref="CreateRevision"/> of its creation (a key
/// deleted and created again gets a new one), <see cref="Lease"/> the lease it lives under (0: none).
/// </summary>
public sealed record StoredKey(string Key, string Value, long CreateRevision, long ModRevision, long Version, long Lease);

/// <summary>Every key under a prefix as of one revision: a decision made from it can be guarded by that revision.</summary>
public sealed record PrefixSnapshot(long Revision, IReadOnlyList<StoredKey> Keys)
{
    public StoredKey? Find(string key) => Keys.FirstOrDefault(k => k.Key == key);
}

/// <summary>A condition a transaction checks, all at once and atomically, before it writes anything.</summary>
public abstract record Guard(string Key)
{
    /// <summary>The key was last changed at <paramref name="modRevision"/>; 0 means it must not exist.</summary>
    public static Guard Unchanged(string key, long modRevision) => new ModRevisionGuard(key, modRevision);

    /// <summary>The key does not exist (create-if-absent).</summary>
    public static Guard Absent(string key) => new ModRevisionGuard(key, 0);

    /// <summary>The key is the very one created at <paramref name="createRevision"/> (not deleted and created again since).</summary>
    public static Guard SameKey(string key, long createRevision) => new CreateRevisionGuard(key, createRevision);

    /// <summary>No key under <paramref name="prefix"/> changed after <paramref name="revision"/> (a deletion does not count).</summary>
    public static Guard NothingChangedSince(string prefix, long revision) => new RangeGuard(prefix, revision);

    /// <summary>The key holds exactly <paramref name="value"/>.</summary>
    public static Guard Holds(string key, string value) => new ValueGuard(key, value);
}

public sealed record ModRevisionGuard(string Key, long ModRevision) : Guard(Key);

public sealed record CreateRevisionGuard(string Key, long CreateRevision) : Guard(Key);

public sealed record RangeGuard(string Key, long Revision) : Guard(Key);

public sealed record ValueGuard(string Key, string Value) : Guard(Key);

/// <summary>A write of a transaction: all of them happen, or none.</summary>
public abstract record Mutation(string Key)
{
    /// <summary>Sets the key; under <paramref name="lease"/> it is deleted when that lease ends (0: never).</summary>
    public static Mutation Put(string key, string value, long lease = 0) => new PutMutation(key, value, lease);

    public static Mutation Delete(string key) => new DeleteMutation(key);
}

public sealed record PutMutation(string Key, string Value, long Lease) : Mutation(Key);

public sealed record DeleteMutation(string Key) : Mutation(Key);

/// <summary>
/// What a guarded transaction did. Succeeded: every guard held and every write happened at <see cref="Revision"/>.
/// Otherwise nothing was written, and <see cref="Current"/> holds what the guarded keys are now (null: absent), read
/// in the same transaction, so the caller can decide again from the truth.
/// </summary>
public sealed record TxnOutcome(bool Succeeded, long Revision, IReadOnlyDictionary<string, StoredKey?> Current)
{
    public StoredKey? CurrentOf(string key) => Current.GetValueOrDefault(key);
}

/// <summary>A lease granted by etcd: its id and the TTL etcd granted (it may be longer than asked for).</summary>
public sealed record LeaseGrant(long Id, TimeSpan Ttl, DateTimeOffset SentAt, TimeSpan Latency);

/// <summary>
/// One keep-alive: when it was sent, how long the answer took, and the TTL etcd restarted the lease with. The lease
/// lives in etcd at least until <see cref="SentAt"/> + <see cref="Ttl"/>: etcd restarted it after the request left.
/// </summary>
public sealed record LeaseRenewal(long Id, TimeSpan Ttl, DateTimeOffset SentAt, TimeSpan Latency);

/// <summary>One change of a watched key, in etcd's order.</summary>
public sealed record KeyChange(StoredKey Key, bool Deleted);

/// <summary>The changes of one revision or a run of them, delivered in revision order; <see cref="Revision"/> is the last one.</summary>
public sealed record WatchBatch(long Revision, IReadOnlyList<KeyChange> Changes);
