using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Configuration;
using Gateway.Coordinator.Hooks;
using Gateway.Observability;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Switching;

/// <summary>Site switches by kind and result, how long they took, the writes held meanwhile, and the hooks run.</summary>
public sealed class SwitchMetrics
{
    private static readonly string[] Kinds = ["switchover", "failover"];
    private static readonly string[] Results = ["succeeded", "failed"];

    private readonly Counter<long> _switches;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _hookRuns;

    public SwitchMetrics(MetricsCollector collector, WriteGate writeGate, IOptions<GatewayOptions> options)
    {
        var meter = collector.Meter;
        _switches = meter.CreateCounter<long>("gateway.failovers", "{switch}", "Site switches (planned switchovers and failovers) by kind and result.");
        _duration = meter.CreateHistogram<double>("gateway.failover.duration", "s", "Time from the start of a site switch to writes released on the new site.");
        meter.CreateObservableGauge("gateway.writes.held", () => writeGate.Held, "{request}", "Write requests held while the active site changes.");

        // Every series from the start, so dashboards and alerts show 0 rather than nothing before the first switch.
        foreach (var kind in Kinds)
        {
            foreach (var result in Results)
            {
                _switches.Add(0, Tags(kind, result));
            }
        }

        _hookRuns = meter.CreateCounter<long>("gateway.switch.hook.runs", "{run}", "Hooks run during site switches, by step, before or after it, and result (succeeded, failed, timed_out).");
        foreach (var hook in options.Value.Coordinator.Hooks.DistinctBy(h => (h.Step, h.When)))
        {
            foreach (var result in HookRun.Results)
            {
                _hookRuns.Add(0, HookTags(hook.Step, hook.When ?? HookWhen.Before, result));
            }
        }
    }

    public void RecordHook(HookRun run) => _hookRuns.Add(1, HookTags(run.Step, run.When, run.Result));

    private static TagList HookTags(string step, HookWhen when, string result) =>
        new() { { "step", step }, { "when", when.ToString().ToLowerInvariant() }, { "result", result } };

    public void Record(SiteSwitchReport report)
    {
        var tags = Tags(report.Kind.ToString().ToLowerInvariant(), report.Succeeded ? "succeeded" : "failed");
        _switches.Add(1, tags);
        _duration.Record(report.Total.TotalSeconds, tags);
    }

    private static TagList Tags(string kind, string result) => new() { { "kind", kind }, { "result", result } };
}
