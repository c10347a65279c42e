using Gateway.Configuration;
using Gateway.Model;
using Gateway.Observability;
using Microsoft.Extensions.Options;

namespace Gateway.Filestore;

/// <summary>
/// The replication backlog as Prometheus sees it, read from the running replicator's status at each scrape. The
/// series stay while no replicator runs, labelled with the direction replication should have now (active site to
/// the other): <c>gateway_filestore_replication_running</c> is then 0, the backlog the last replicator left, and the
/// oldest pending age counts on from when it stopped, since every file written since is on the source only. So the
/// backlog alert fires for a replicator that never comes back too.
/// </summary>
public sealed class FilestoreMetrics
{
    private readonly FilestoreReplication _replication;
    private readonly ActiveSiteState _activeSite;
    private readonly SiteTopology _topology;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private ReplicationStatus? _lastRunning;
    private DateTimeOffset _stoppedAt;

    public FilestoreMetrics(
        GatewayMetrics metrics, FilestoreReplication replication, IOptions<GatewayOptions> options, SiteTopology topology, ActiveSiteState activeSite, TimeProvider time)
    {
        (_replication, _activeSite, _topology, _time) = (replication, activeSite, topology, time);
        _stoppedAt = time.GetUtcNow();
        string[] direction = ["source", "target"];
        metrics.ObservedGauge("gateway_filestore_link_target",
            "1 for the site whose SAN each filestore link points at now, 0 for the other; a link that points elsewhere shows no 1.",
            ["link", "site"], () => LinkTargets(options.Value.Filestore.Links, topology));
        metrics.ObservedGauge("gateway_filestore_replication_running",
            "1 while a SAN replicator runs from source to target, 0 while none does (files written meanwhile are on the source only).",
            direction, () => Observe(now => now.Running ? 1 : 0));
        metrics.ObservedGauge("gateway_filestore_last_reconcile_timestamp_seconds",
            "When the last full comparison of the two SANs finished (Unix time; 0: none yet).",
            direction, () => Observe(now => now.Status?.LastReconcile?.FinishedAt.ToUnixTimeSeconds() ?? 0));
        metrics.ObservedGauge("gateway_filestore_backlog_files",
            "Files (and deletes, renames, directories) changed on the active SAN and not yet on the replica.",
            direction, () => Observe(now => now.Status?.PendingFiles ?? 0));
        metrics.ObservedGauge("gateway_filestore_backlog_bytes",
            "Bytes waiting to be copied to the replica SAN.",
            direction, () => Observe(now => now.Status?.PendingBytes ?? 0));
        metrics.ObservedGauge("gateway_filestore_oldest_pending_age_seconds",
            "Age of the oldest change not yet on the replica: the filestore's RPO right now (0 with nothing pending).",
            direction, () => Observe(now => now.OldestPendingAge.TotalSeconds));
        metrics.ObservedGauge("gateway_filestore_replication_alarm",
            "1 while replication fails somewhere (target full, unwritable or gone) and retries; the admin status says what.",
            direction, () => Observe(now => now.Running && now.Status!.Alarm is not null ? 1 : 0));
    }

    /// <summary>What the gauges show at one scrape: the running replicator's status, or the last one's while none runs.</summary>
    private readonly record struct Reading(string Source, string Target, bool Running, ReplicationStatus? Status, TimeSpan OldestPendingAge);

    private IEnumerable<Sample> Observe(Func<Reading, double> value)
    {
        var reading = Read();
        yield return Sample.Of(value(reading), reading.Source, reading.Target);
    }

    private Reading Read()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_replication.Status is { State: not ReplicationState.Stopped } running)
            {
                _lastRunning = running;
                _stoppedAt = now;
                return new(running.Direction.SourceSite, running.Direction.TargetSite, true, running, running.OldestPendingChangeAge ?? TimeSpan.Zero);
            }

            var source = _activeSite.ActiveSite;
            var target = _topology.PeerOf(source).Id;
            var left = _lastRunning is { } last && last.Direction.SourceSite == source ? last : null;
            var age = (now - _stoppedAt) + (left?.OldestPendingChangeAge ?? TimeSpan.Zero);
            return new(source, target, false, left, age);
        }
    }

    private static IEnumerable<Sample> LinkTargets(IEnumerable<string> links, SiteTopology topology)
    {
        foreach (var link in links)
        {
            var target = new FileInfo(link).LinkTarget;
            foreach (var site in topology.Sites)
            {
                var pointsHere = target is not null && Path.GetFullPath(target, Path.GetDirectoryName(link)!) == Path.GetFullPath(site.SanPath);
                yield return Sample.Of(pointsHere ? 1 : 0, link, site.Id);
            }
        }
    }
}
