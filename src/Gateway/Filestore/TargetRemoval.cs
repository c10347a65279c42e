namespace Gateway.Filestore;

/// <summary>
/// Removes from the target what the source removed, once <see cref="EntryDecision"/> found that the target's entry
/// came from the source (the <see cref="ReplicaLedger"/>'s rule): a file or symlink goes if the
/// <see cref="DeleteBreaker"/> allows, and only the version deleted is forgotten; a directory is never removed with
/// what is in it, but walked and its entries queued, each to be decided by its own worker.
/// </summary>
internal sealed class TargetRemoval(
    ReplicationDirection direction,
    ReplicationOptions options,
    ReplicaSides sides,
    ReplicaWriter writer,
    ReplicaLedger ledger,
    DeleteBreaker breaker,
    PendingChanges pending,
    ILogger logger)
{
    /// <summary>
    /// A source file or symlink now stands where the target has a directory the source once had: the directory's
    /// entries go first, each by the ledger's rule, so that only an empty directory is replaced.
    /// </summary>
    public async Task ClearDirectoryForAsync(PendingChange change, ReplicaEntry? target, CancellationToken cancellation)
    {
        if (target is { Kind: EntryKind.Directory })
        {
            await RemoveAsync(change, target, cancellation);
            if (DirectoryScanner.Read(writer.TargetPath(change.Path)) is { Kind: EntryKind.Directory })
            {
                // Its entries are queued; this path comes back once they are decided.
                throw new ReplicationException(ReplicaSide.Target, $"{writer.TargetPath(change.Path)} still holds entries being decided one by one before a file can replace it");
            }
        }
    }

    /// <summary>
    /// The source removed what the target's entry came from: a file or symlink goes (if the breaker allows). A
    /// directory is never removed with what is in it: each file and symlink below is queued, to be decided by its own
    /// worker (a copy of it may be under way, and only its worker can know), and empty directories are removed, deepest
    /// first; each file's worker queues the directory again once it is gone (<see cref="QueueStaleAncestor"/>).
    /// </summary>
    /// <returns>False when the delete was held by the breaker.</returns>
    public async Task<bool> RemoveAsync(PendingChange change, ReplicaEntry target, CancellationToken cancellation)
    {
        if (target.Kind != EntryKind.Directory)
        {
            return DeleteIfAllowed(change.Path, target);
        }

        var below = await sides.ScanTargetAsync(change.Path, cancellation);
        foreach (var leftover in below.ReplicaTempFiles)
        {
            // The replicator's own, left by a copy that failed or was cancelled (one under way is left alone).
            writer.DeleteLeftoverTemp(leftover);
        }

        foreach (var (path, entry) in below.Entries.OrderByDescending(pair => pair.Key, StringComparer.Ordinal))
        {
            if (entry.Kind == EntryKind.Directory)
            {
                writer.RemoveDirectoryIfEmpty(path);
            }
            else
            {
                pending.Add(new ChangeHint(path), 0, change.FirstSeen);
            }
        }

        writer.RemoveDirectoryIfEmpty(change.Path);
        return true;
    }

    /// <summary>
    /// The path is gone from the source; so may be directories above it that a racing copy recreated on the target
    /// (it creates missing parents). The nearest such directory is queued: deleting it takes everything below.
    /// </summary>
    public void QueueStaleAncestor(PendingChange change)
    {
        if (options.Deletes != DeletePolicy.Propagate)
        {
            return;
        }

        foreach (var ancestor in RelativePaths.Ancestors(change.Path))
        {
            if (sides.Read(ReplicaSide.Source, ancestor) is not null)
            {
                return;
            }

            if (sides.Read(ReplicaSide.Target, ancestor) is not null)
            {
                pending.Add(new ChangeHint(ancestor), 0, change.FirstSeen);
                return;
            }
        }
    }

    /// <summary>Deletes held by the breaker are queued to be looked at again, and deleted if the source still lacks them and the ledger still knows them.</summary>
    /// <returns>How many were held.</returns>
    public int ReleaseHeld(DateTimeOffset now)
    {
        var held = breaker.Release();
        foreach (var path in held)
        {
            pending.Add(new ChangeHint(path), 0, now);
        }

        return held.Count;
    }

    private bool DeleteIfAllowed(string path, ReplicaEntry entry)
    {
        if (!breaker.TryDelete(path))
        {
            ReplicatorLog.DeleteHeld(logger, path, direction.ToString(), options.MaxDeletesPerMinute);
            return false;
        }

        // Only what was really removed is forgotten: an entry renamed away meanwhile keeps its record, which the rename carries.
        if (writer.Delete(path))
        {
            ledger.Forget(path, entry);
        }

        return true;
    }
}
