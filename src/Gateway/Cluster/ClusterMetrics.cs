using Gateway.Database;
using Gateway.Observability;
using Gateway.Routing;

namespace Gateway.Cluster;

/// <summary>This gateway's standing in the cluster, read at each scrape: whether it leads, whether its session is trusted, the last renewal's latency and the epoch it routes by.</summary>
public sealed class ClusterMetrics
{
    public ClusterMetrics(GatewayMetrics metrics, ClusterNode node, DatabaseRoutingTable routing, WriteGate writeGate)
    {
        metrics.ObservedGauge("gateway_cluster_leader", "1 while this gateway holds the cluster's leader key under its live session, else 0.",
            () => node.Election.Status.IsLeader ? 1 : 0);
        metrics.ObservedGauge("gateway_cluster_session_valid", "1 while this gateway's etcd session is trusted (writes allowed), 0 while it fences writes.",
            () => node.Election.Status.WritesAllowed ? 1 : 0);
        metrics.ObservedGauge("gateway_cluster_writes_fenced", "1 while HTTP and PostgreSQL writes are stopped by the lease fence (until the epoch is read again).",
            () => writeGate.IsFenced ? 1 : 0);
        metrics.ObservedGauge("gateway_cluster_lease_renewal_seconds", "Latency of the last successful lease renewal (keep-alive) to etcd.",
            () => node.Election.Status.LastRenewalLatency?.TotalSeconds ?? 0);
        var failures = metrics.Counter("gateway_cluster_etcd_request_failures_total", "etcd requests and watch streams that failed on a member (down, frozen, without a leader) and moved on to the next one.");
        metrics.OnScrape("gateway_cluster_etcd_request_failures_total", () => failures.IncTo(node.Store.FailedRequests));
        var records = metrics.Counter("gateway_cluster_record_append_failures_total", "History and audit entries etcd did not take (each is in this gateway's local file and its log).");
        metrics.OnScrape("gateway_cluster_record_append_failures_total", () => records.IncTo(node.Records.FailedAppends));
        metrics.ObservedGauge("gateway_cluster_routed_epoch", "The epoch this gateway's routing follows; gateways that disagree for long are a problem.",
            () => routing.Current.Epoch);
    }
}
