using System.Collections.Immutable;

namespace Gateway.Database;

/// <summary>
/// Where database traffic may go right now: the one primary (none while a switch runs) and the fenced nodes.
/// <see cref="WritesStopped"/>, when set, says why no write may go anywhere now (cluster mode: the lease is not trusted).
/// </summary>
public sealed record DatabaseRoutes(string? Primary, ImmutableHashSet<string> Fenced, long Epoch, string? WritesStopped = null)
{
    public bool IsFenced(string siteId) => Fenced.Contains(siteId);
}

/// <summary>
/// The single source of truth for the PG endpoints, changed only by failover actions. Waiters (write connections
/// held during a switch) are woken on every change.
/// </summary>
public sealed class DatabaseRoutingTable(string? primary, long epoch)
{
    private volatile DatabaseRoutes _routes = new(primary, [], epoch);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DatabaseRoutes Current => _routes;

    /// <summary>Completes at the next change of the routes.</summary>
    public Task ChangedAsync() => Volatile.Read(ref _changed).Task;

    /// <summary>Writes are held (new connections wait) until a primary is designated again.</summary>
    public void HoldWrites() => Update(routes => routes with { Primary = null });

    public void Fence(string siteId) => Update(routes => routes with { Fenced = routes.Fenced.Add(siteId) });

    public void Unfence(string siteId) => Update(routes => routes with { Fenced = routes.Fenced.Remove(siteId) });

    public void DesignatePrimary(string siteId, long epoch) =>
        Update(routes => routes with { Primary = siteId, Fenced = routes.Fenced.Remove(siteId), Epoch = epoch });

    /// <summary>New write connections are refused (57P03) until <see cref="ResumeWrites"/>, whatever the primary.</summary>
    public void StopWrites(string reason) => Update(routes => routes with { WritesStopped = reason });

    public void ResumeWrites() => Update(routes => routes with { WritesStopped = null });

    private void Update(Func<DatabaseRoutes, DatabaseRoutes> change)
    {
        lock (this)
        {
            _routes = change(_routes);
        }

        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
