namespace Gateway.Filestore;

/// <summary>
/// The last replication before a failover: reconcile scans and the workers until the target lacks nothing the
/// source holds, within a deadline; and if that fails, an account of exactly which paths did not make it.
/// </summary>
internal sealed class FinalSync(
    ReplicationDirection direction, ReconcileScanner scanner, ReplicaSides sides, PendingChanges pending, TimeProvider time, ILogger logger)
{
    /// <summary>How long the accounting after a failed final sync may scan both sides before it falls back to what events reported.</summary>
    private static readonly TimeSpan AccountingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Replicates what is left within <paramref name="deadline"/>, scanning both sides until they agree.</summary>
    public async Task<FinalSyncResult> RunAsync(TimeSpan deadline, CancellationToken cancellation)
    {
        var started = time.GetTimestamp();
        using var deadlineSource = new CancellationTokenSource(deadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, deadlineSource.Token);
        string? failure = null;
        try
        {
            // Done when the target lacks nothing the source holds; what the target holds beyond that (copies back,
            // deletes held) does not make it an incomplete replica.
            while ((await scanner.ReconcileAsync(ReconcileTrigger.FinalSync, linked.Token)).Any(ReplicationPlan.TargetLacks))
            {
                await pending.WhenDrainedAsync(linked.Token);
            }
        }
        catch (OperationCanceledException) when (deadlineSource.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            failure = $"the deadline of {deadline} passed before the target caught up";
        }
        catch (ReplicationException e)
        {
            failure = e.Message;
        }

        var (notReplicated, accountingNote) = failure is null ? ([], null) : await AccountForUnreplicatedAsync(cancellation);
        var result = new FinalSyncResult(
            direction, failure is null, notReplicated, time.GetElapsedTime(started), failure is null ? null : failure + accountingNote, ComparedBothSides: accountingNote is null);
        ReplicatorLog.FinalSync(logger, failure is null ? LogLevel.Information : LogLevel.Warning, direction.ToString(), result.TargetIsCompleteReplica,
            notReplicated.Count, result.Elapsed, result.Failure ?? "none");
        return result;
    }

    /// <summary>
    /// After a final sync gave up: what differs right now (a fresh scan, so a path copied meanwhile is not listed),
    /// or, with the source unreadable, every change the events reported that was not replicated.
    /// </summary>
    private async Task<(IReadOnlyList<string> Paths, string? Note)> AccountForUnreplicatedAsync(CancellationToken cancellation)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(AccountingTimeout);
        try
        {
            var differences = await sides.CompareAsync("", bounded.Token).WaitAsync(bounded.Token);
            return (differences.Where(ReplicationPlan.TargetLacks).Select(d => d.Path).ToList(), null);
        }
        catch (ReplicationException e)
        {
            return (pending.Paths(), $"; listing the changes reported by events only, since a scan failed: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return (pending.Paths(), $"; listing the changes reported by events only, since a scan did not answer within {AccountingTimeout.TotalSeconds:0} s (a hung mount?)");
        }
    }
}
