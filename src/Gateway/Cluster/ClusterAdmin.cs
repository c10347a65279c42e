using Gateway.Coordinator.Admin;
using Gateway.Routing;

namespace Gateway.Cluster;

/// <summary>Reads <see cref="ClusterStatus"/> from etcd (an admin call, never the request path).</summary>
public sealed class ClusterStatusReader(ClusterNode node)
{
    public async Task<ClusterStatus> ReadAsync(CancellationToken cancellation)
    {
        var status = node.Election.Status;
        PrefixSnapshot snapshot;
        try
        {
            snapshot = await node.Store.ReadPrefixAsync("", cancellation);
        }
        catch (EtcdUnavailableException e)
        {
            // Without etcd the status still says what this gateway itself knows: its role and why writes stopped.
            return new ClusterStatus(node.Options.Name, node.Options.GatewayId, status.Role.ToString(), status.Leader, null, 0,
                status.WritesAllowed, $"{status.Sentence} (etcd not readable: {e.Message})", []);
        }

        var leaderKey = snapshot.Find(LeaderElection.LeaderKey);
        double? leaseLeft = null;
        if (leaderKey is { Lease: not 0 })
        {
            leaseLeft = (await node.Store.LeaseRemainingAsync(leaderKey.Lease, cancellation))?.TotalSeconds;
        }

        var views = MemberView.Decode(snapshot.Keys).ToDictionary(v => v.GatewayId);
        var members = snapshot.Keys
            .Where(k => k.Key.StartsWith(LeaderElection.MembersPrefix, StringComparison.Ordinal))
            .Select(k => (Id: k.Key[LeaderElection.MembersPrefix.Length..], Info: MemberInfo.Decode(k.Value)))
            .OrderBy(m => m.Id, StringComparer.Ordinal)
            .Select(m => new ClusterMemberStatus(m.Id, m.Info?.AdminUrl, m.Id == leaderKey?.Value, views.GetValueOrDefault(m.Id)?.Epoch, views.GetValueOrDefault(m.Id)?.AsOf))
            .ToList();
        var now = node.Store.Clock.Now();
        var trusted = status.FenceAt is { } fenceAt && fenceAt > now ? (fenceAt - now).TotalSeconds : 0;
        return new ClusterStatus(node.Options.Name, node.Options.GatewayId, status.Role.ToString(), leaderKey?.Value, leaseLeft, trusted,
            status.WritesAllowed, status.Sentence, members);
    }

    /// <summary>The admin URL of the gateway that leads, or null when none does (or it published none).</summary>
    public async Task<(string? Leader, string? AdminUrl)> LeaderAdminUrlAsync(CancellationToken cancellation)
    {
        var leader = await node.Store.ReadKeyAsync(LeaderElection.LeaderKey, cancellation);
        if (leader is null)
        {
            return (null, null);
        }

        var member = await node.Store.ReadKeyAsync(LeaderElection.MemberKey(leader.Value), cancellation);
        return (leader.Value, member is null ? null : MemberInfo.Decode(member.Value)?.AdminUrl);
    }
}

/// <summary>
/// The admin API's view of cluster mode: a follower answers a state-changing call 307 with the same path at the
/// leader's admin URL (gatewayctl follows it, sending its token and body again), or 503 with Retry-After without a
/// leader; operations end with this gateway's leadership; the status lists the cluster.
/// </summary>
public sealed class ClusterAdmin(ClusterNode node, ClusterStatusReader reader, ClusterRole role, WriteGate writeGate) : IAdminLeadership
{
    public CancellationToken ActingToken => role.ActingToken;

    // The lease fence is lifted only with a trusted session and after the current epoch was read.
    public string? NotReady => writeGate.IsFenced ? $"writes are fenced: {node.Election.Status.Sentence}" : null;

    public Task<ClusterStatus> ReadStatusAsync(CancellationToken cancellation) => reader.ReadAsync(cancellation);

    public async Task<IResult?> RedirectAsync(HttpContext context)
    {
        if (node.Election.Status.IsLeader)
        {
            return null;
        }

        (string? Leader, string? AdminUrl) leader;
        try
        {
            leader = await reader.LeaderAdminUrlAsync(context.RequestAborted);
        }
        catch (EtcdUnavailableException)
        {
            leader = (null, null);
        }

        if (leader.AdminUrl is not { } url || leader.Leader == node.Options.GatewayId)
        {
            context.Response.Headers.RetryAfter = "1";
            return Results.Json(new
            {
                error = $"no leader: this gateway ({node.Options.GatewayId}) does not lead and no leader's admin URL is known; state-changing calls are carried out by the leader only",
            }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Redirect(url.TrimEnd('/') + context.Request.PathBase + context.Request.Path + context.Request.QueryString, permanent: false, preserveMethod: true);
    }
}
