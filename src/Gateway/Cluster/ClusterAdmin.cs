namespace Gateway.Cluster;

/// <summary>One gateway of the cluster as GET /admin/status lists it.</summary>
public sealed record ClusterMemberStatus(string GatewayId, string? AdminUrl, bool Leads, long? Epoch, DateTimeOffset? ViewAsOf);

/// <summary>
/// The cluster as this gateway sees it: who leads, how long the leader's lease has left in etcd, this gateway's own
/// role and session, and every registered gateway with the epoch it routes by.
/// </summary>
public sealed record ClusterStatus(
    string Name, string Self, string Role, string? Leader, double? LeaderLeaseRemainingSeconds, double SessionTrustedForSeconds,
    bool WritesAllowed, string Sentence, IReadOnlyList<ClusterMemberStatus> Gateways);

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
/// On a follower, a state-changing admin call (anything but GET and HEAD) is answered 307 with the same path at the
/// leader's admin URL: the leader alone acts. An endpoint filter after the token check, so a stranger learns no
/// leader's address and the redirect is counted and audited like any answer. gatewayctl follows it, sending its token
/// and body again. Without a leader the answer is 503 with Retry-After. Without cluster mode it does nothing.
/// </summary>
public static class LeaderRedirect
{
    public static async ValueTask<object?> RedirectToLeaderAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
            || http.RequestServices.GetService<ClusterNode>() is not { } node || node.Election.Status.IsLeader)
        {
            return await next(context);
        }

        (string? Leader, string? AdminUrl) leader;
        try
        {
            leader = await http.RequestServices.GetRequiredService<ClusterStatusReader>().LeaderAdminUrlAsync(http.RequestAborted);
        }
        catch (EtcdUnavailableException)
        {
            leader = (null, null);
        }

        if (leader.AdminUrl is not { } url || leader.Leader == node.Options.GatewayId)
        {
            http.Response.Headers.RetryAfter = "1";
            return Results.Json(new
            {
                error = $"no leader: this gateway ({node.Options.GatewayId}) does not lead and no leader's admin URL is known; state-changing calls are carried out by the leader only",
            }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Redirect(url.TrimEnd('/') + http.Request.PathBase + http.Request.Path + http.Request.QueryString, permanent: false, preserveMethod: true);
    }
}
