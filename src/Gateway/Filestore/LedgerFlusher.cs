namespace Gateway.Filestore;

/// <summary>Writes the ledger's new records to disk every second while the replicator runs.</summary>
internal sealed class LedgerFlusher(ReplicationDirection direction, ReplicaLedger ledger, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            try
            {
                ledger.Flush();
            }
            catch (IOException e)
            {
                // A ledger entry lost to a crash only turns a later delete into a copy back; say so, and keep replicating.
                ReplicatorLog.LedgerFlushFailed(logger, direction.ToString(), e.Message);
            }
        }
    }
}
