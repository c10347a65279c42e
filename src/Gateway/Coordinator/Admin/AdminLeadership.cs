namespace Gateway.Coordinator.Admin;

/// <summary>One gateway of the cluster as GET /admin/status lists it.</summary>
public sealed record ClusterMemberStatus(string GatewayId, string? AdminUrl, bool Leads, long? Epoch, DateTimeOffset? ViewAsOf);

/// <summary>
/// The cluster as this gateway sees it: who leads, how long the leader's lease has left in etcd, this gateway's own
/// role and session, and every registered gateway with the epoch it routes by.
/// </summary>
public sealed record ClusterStatus(
    string Name, string Self, string Role, string? Leader, double? LeaderLeaseRemainingSeconds, double SessionTrustedForSeconds,
    bool WritesAllowed, string Sentence, IReadOnlyList<ClusterMemberStatus> Gateways);

/// <summary>
/// What the admin API needs from cluster mode, which implements it (absent when the gateway runs alone): whether this
/// gateway carries out a state-changing call or answers with the leader's address, the end of its leadership for the
/// operations it runs, and the cluster's part of the status.
/// </summary>
public interface IAdminLeadership
{
    /// <summary>Null when this gateway carries the call out; otherwise the answer instead (307 to the leader, or 503 without one).</summary>
    Task<IResult?> RedirectAsync(HttpContext context);

    /// <summary>Why this gateway should take no traffic now (its session is not trusted, or the epoch not read since); null when ready.</summary>
    string? NotReady { get; }

    /// <summary>Cancelled when this gateway stops acting.</summary>
    CancellationToken ActingToken { get; }

    Task<ClusterStatus> ReadStatusAsync(CancellationToken cancellation);
}

public static class AdminLeadership
{
    /// <summary>
    /// An endpoint filter after the token check: on a cluster follower a state-changing call (anything but GET and
    /// HEAD) is answered with the leader's address, counted and audited like any answer; a stranger learns none.
    /// </summary>
    public static async ValueTask<object?> RedirectToLeaderAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
            || http.RequestServices.GetService<IAdminLeadership>() is not { } leadership)
        {
            return await next(context);
        }

        return await leadership.RedirectAsync(http) ?? await next(context);
    }

    /// <summary>
    /// The cancellation of an operation an operator starts: the host's stopping, and in cluster mode also the end of
    /// this gateway's leadership (no step runs on under a leadership it lost).
    /// </summary>
    public static CancellationToken OperationCancellation(HttpContext context, IHostApplicationLifetime lifetime) =>
        context.RequestServices.GetService<IAdminLeadership>() is { } leadership
            ? CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, leadership.ActingToken).Token
            : lifetime.ApplicationStopping;
}
