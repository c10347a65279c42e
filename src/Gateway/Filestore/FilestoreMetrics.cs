using System.Diagnostics.Metrics;
using Gateway.Observability;

namespace Gateway.Filestore;

/// <summary>The replication backlog as Prometheus sees it, read from the running replicator's status at each scrape (nothing while none runs).</summary>
public sealed class FilestoreMetrics
{
    public FilestoreMetrics(MetricsCollector collector, FilestoreReplication replication, Microsoft.Extensions.Options.IOptions<Configuration.GatewayOptions> options, Coordinator.SiteTopology topology)
    {
        var meter = collector.Meter;
        meter.CreateObservableGauge("gateway.filestore.link_target", () => LinkTargets(options.Value.Filestore.Links, topology),
            description: "1 for the site whose SAN each filestore link points at now, 0 for the other; a link that points elsewhere shows no 1.");
        meter.CreateObservableGauge("gateway.filestore.last_reconcile_timestamp", () => Backlog(replication, s => s.LastReconcile?.FinishedAt.ToUnixTimeSeconds() ?? 0), "s",
            "When the last full comparison of the two SANs finished (Unix time; 0: none yet).");
        meter.CreateObservableGauge("gateway.filestore.backlog_files", () => Backlog(replication, s => s.PendingFiles), "{file}",
            "Files (and deletes, renames, directories) changed on the active SAN and not yet on the replica.");
        meter.CreateObservableGauge("gateway.filestore.backlog_bytes", () => Backlog(replication, s => s.PendingBytes), "By",
            "Bytes waiting to be copied to the replica SAN.");
        meter.CreateObservableGauge("gateway.filestore.oldest_pending_age", () => Backlog(replication, s => s.OldestPendingChangeAge?.TotalSeconds ?? 0), "s",
            "Age of the oldest change not yet on the replica: the filestore's RPO right now (0 with nothing pending).");
        meter.CreateObservableGauge("gateway.filestore.replication_alarm", () => Backlog(replication, s => s.Alarm is null ? 0 : 1),
            description: "1 while replication fails somewhere (target full, unwritable or gone) and retries; the admin status says what.");
    }

    private static IEnumerable<Measurement<int>> LinkTargets(IEnumerable<string> links, Coordinator.SiteTopology topology)
    {
        foreach (var link in links)
        {
            var target = new FileInfo(link).LinkTarget;
            foreach (var site in topology.Sites)
            {
                var pointsHere = target is not null && Path.GetFullPath(target, Path.GetDirectoryName(link)!) == Path.GetFullPath(site.SanPath);
                yield return new Measurement<int>(pointsHere ? 1 : 0,
                    new KeyValuePair<string, object?>("link", link), new KeyValuePair<string, object?>("site", site.Id));
            }
        }
    }

    private static IEnumerable<Measurement<double>> Backlog(FilestoreReplication replication, Func<ReplicationStatus, double> value)
    {
        if (replication.Status is { } status)
        {
            yield return new Measurement<double>(value(status),
                new KeyValuePair<string, object?>("source", status.Direction.SourceSite), new KeyValuePair<string, object?>("target", status.Direction.TargetSite));
        }
    }
}
