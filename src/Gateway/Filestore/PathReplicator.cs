namespace Gateway.Filestore;

/// <summary>
/// Brings one path of the target in line with the source: looks at both sides again, does what
/// <see cref="EntryDecision"/> says (copy, create, delete through <see cref="TargetRemoval"/>, copy back, or a
/// conflict alarm), and queues again what changed meanwhile. A rename on the source renames the replica instead of
/// copying it again, when the ledger says the replica is what the source had.
/// </summary>
internal sealed class PathReplicator(
    ReplicationDirection direction,
    ReplicationOptions options,
    ReplicaSides sides,
    ReplicaWriter writer,
    ReplicaWriter backWriter,
    ReplicaLedger ledger,
    PendingChanges pending,
    SourceWatch watch,
    TargetRemoval removal,
    ILogger logger)
{
    private long _copiedBack;

    /// <summary>How many entries the target held that the source never had were copied to the source.</summary>
    public long CopiedBack => Interlocked.Read(ref _copiedBack);

    /// <summary>Brings one path of the target in line with the source; false when it had to be queued again.</summary>
    public async ValueTask<bool> ReplicateAsync(PendingChange change, CancellationToken cancellation)
    {
        var path = change.Path;
        if (path.Length == 0)
        {
            // The whole-tree rescan after events were lost counts only if every change after it will be reported:
            // a watcher that could not be restarted is tried again here, retried with backoff until it can.
            watch.RestartIfItFailed();
        }

        if (change.Hint.RenamedFrom is { } renamedFrom)
        {
            if (options.Deletes == DeletePolicy.Propagate)
            {
                MoveReplicaIfPossible(renamedFrom, path);
            }

            // Whatever the move did not take care of under the old name (everything, when deletes are kept) is replicated as usual.
            pending.Add(new ChangeHint(renamedFrom), 0, change.FirstSeen);
        }

        var source = sides.ReadSource(path);
        var target = sides.Read(ReplicaSide.Target, path);
        var decision = EntryDecision.Decide(source, target, target is not null && ledger.Matches(path, target), change.Hint.ContentChanged, options.Deletes);
        ReplicatorLog.Deciding(logger, path, change.Hint, source, target, decision);
        var (settled, held) = await CarryOutAsync(decision, change, source, target, cancellation);
        if (settled)
        {
            RecordAgreement(path, decision);
        }

        if (source is null)
        {
            if (!held)
            {
                removal.QueueStaleAncestor(change);
            }

            return settled;
        }

        if (decision != ReplicaAction.None && sides.Read(ReplicaSide.Source, path) is null)
        {
            // An ancestor was renamed on the source while this was replicated (no event names the entries under a
            // renamed directory): what was just created on the target sits under a name the source no longer has.
            pending.Add(new ChangeHint(path), 0, change.FirstSeen);
            return false;
        }

        if (source.Kind == EntryKind.Directory && change.Hint.ScanSubtree)
        {
            await QueueDifferencesUnderAsync(change, cancellation);
        }

        return settled;
    }

    /// <returns>Settled: false when the path had to be queued again; Held: the breaker held its delete.</returns>
    private async Task<(bool Settled, bool Held)> CarryOutAsync(
        ReplicaAction decision, PendingChange change, ReplicaEntry? source, ReplicaEntry? target, CancellationToken cancellation)
    {
        var path = change.Path;
        switch (decision)
        {
            case ReplicaAction.CopyFile:
                await removal.ClearDirectoryForAsync(change, target, cancellation);
                return (await CopyAsync(change, cancellation), false);
            case ReplicaAction.CreateDirectory:
                writer.CreateDirectory(path);
                return (true, false);
            case ReplicaAction.CreateSymlink:
                await removal.ClearDirectoryForAsync(change, target, cancellation);
                writer.CreateSymlink(path, source!.LinkTarget!, entry => ledger.Record(path, entry));
                return (true, false);
            case ReplicaAction.DeleteFromTarget:
                return (true, !await removal.RemoveAsync(change, target!, cancellation));
            case ReplicaAction.CopyBack:
                return (await CopyBackAsync(change, target!, cancellation), false);
            case ReplicaAction.Conflict:
                throw new ReplicationException(ReplicaSide.Target,
                    $"conflict at {path}: the source holds a {source!.Kind.ToString().ToLowerInvariant()}, the target a {target!.Kind.ToString().ToLowerInvariant()} the source never had; " +
                    "neither is replaced (that would lose data), resolve it by hand");
            default:
                return (true, false);
        }
    }

    private async Task<bool> CopyAsync(PendingChange change, CancellationToken cancellation)
    {
        var (outcome, bytes) = await writer.CopyFileAsync(change.Path, cancellation, entry => ledger.Record(change.Path, entry));
        if (outcome == CopyOutcome.Copied)
        {
            return true;
        }

        // Gone: the next look deletes it from the target. Changed: copy it again once it holds still (its events will say so too).
        pending.Add(new ChangeHint(change.Path, ContentChanged: outcome == CopyOutcome.SourceChangedDuringCopy), bytes, change.FirstSeen);
        return false;
    }

    /// <summary>
    /// The target holds what the source never had (written while the target's site was active, say): it is copied
    /// to the source, never deleted, and from then on both hold it. A directory is created there and its entries
    /// queued one by one.
    /// </summary>
    private async Task<bool> CopyBackAsync(PendingChange change, ReplicaEntry target, CancellationToken cancellation)
    {
        switch (target.Kind)
        {
            case EntryKind.File:
                var (outcome, bytes) = await backWriter.CopyFileAsync(change.Path, cancellation, entry => ledger.Record(change.Path, entry));
                if (outcome != CopyOutcome.Copied)
                {
                    // Gone from the target, changed while read, or the source got a file of that name meanwhile: look again.
                    pending.Add(new ChangeHint(change.Path), bytes, change.FirstSeen);
                    return false;
                }

                break;
            case EntryKind.Symlink:
                backWriter.CreateSymlink(change.Path, target.LinkTarget!, entry => ledger.Record(change.Path, entry));
                break;
            default:
                backWriter.CreateDirectory(change.Path);
                await QueueDifferencesUnderAsync(change, cancellation);
                break;
        }

        Interlocked.Increment(ref _copiedBack);
        ReplicatorLog.CopiedBack(logger, change.Path, direction.TargetPath, direction.SourcePath);
        return true;
    }

    /// <summary>Compares both sides under the directory at the change's path and queues what differs, as first seen with the change.</summary>
    private async Task QueueDifferencesUnderAsync(PendingChange change, CancellationToken cancellation)
    {
        var differences = await sides.CompareAsync(change.Path, cancellation);
        pending.Add(ReplicationPlan.From(differences, options.Deletes, ledger.Matches), change.FirstSeen);
    }

    /// <summary>What the ledger learns from one settled path beyond what the worker recorded while writing: an entry both sides hold alike came from the source.</summary>
    private void RecordAgreement(string path, ReplicaAction done)
    {
        if (path.Length == 0)
        {
            return;
        }

        // A path neither side holds keeps its records: a copy recorded before it lands may still land; the reconcile
        // forgets records of paths two scans in a row found on neither side.
        var target = sides.Read(ReplicaSide.Target, path);
        if (target is null)
        {
            return;
        }

        // What this worker wrote was recorded before it was put in place (see ReplicaWriter.CopyFileAsync).
        if (done == ReplicaAction.None && sides.Read(ReplicaSide.Source, path) is { } source && SnapshotComparison.Difference(source, target) is null)
        {
            ledger.Record(path, target);
        }
    }

    private void MoveReplicaIfPossible(string from, string to)
    {
        var targetNew = sides.Read(ReplicaSide.Target, to);
        if (EntryDecision.CanMoveReplica(
                sides.Read(ReplicaSide.Source, from), sides.Read(ReplicaSide.Source, to), sides.Read(ReplicaSide.Target, from), targetNew, targetNew is not null && ledger.Matches(to, targetNew))
            && writer.Move(from, to))
        {
            ledger.Move(from, to);
            ReplicatorLog.MovedReplica(logger, from, to, direction.TargetPath);
        }
    }
}
