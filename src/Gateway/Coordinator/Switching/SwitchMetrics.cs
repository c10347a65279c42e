using Gateway.Configuration;
using Gateway.Coordinator.Hooks;
using Gateway.Observability;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Gateway.Coordinator.Switching;

/// <summary>Site switches by kind and result, how long they took, the writes held meanwhile, and the hooks run.</summary>
public sealed class SwitchMetrics
{
    private static readonly string[] Kinds = ["switchover", "failover"];
    private static readonly string[] Results = ["succeeded", "failed"];

    private readonly Counter _switches;
    private readonly Histogram _duration;
    private readonly Counter _hookRuns;

    public SwitchMetrics(GatewayMetrics metrics, WriteGate writeGate, IOptions<GatewayOptions> options)
    {
        _switches = metrics.Counter("gateway_failovers_total", "Site switches (planned switchovers and failovers) by kind and result.", "kind", "result");
        _duration = metrics.LatencyHistogram("gateway_failover_duration_seconds", "Time from the start of a site switch to writes released on the new site.", "kind", "result");
        metrics.ObservedGauge("gateway_writes_held", "Write requests held while the active site changes.", () => writeGate.Held);

        // Every series from the start, so dashboards and alerts show 0 rather than nothing before the first switch.
        foreach (var kind in Kinds)
        {
            foreach (var result in Results)
            {
                _switches.WithLabels(kind, result);
            }
        }

        _hookRuns = metrics.Counter(
            "gateway_switch_hook_runs_total", "Hooks run during site switches, by step, before or after it, and result (succeeded, failed, timed_out).", "step", "when", "result");
        foreach (var hook in options.Value.Coordinator.Hooks.DistinctBy(h => (h.Step, h.When)))
        {
            foreach (var result in HookRun.Results)
            {
                HookRuns(hook.Step, hook.When ?? HookWhen.Before, result);
            }
        }
    }

    public void RecordHook(HookRun run) => HookRuns(run.Step, run.When, run.Result).Inc();

    private Counter.Child HookRuns(string step, HookWhen when, string result) => _hookRuns.WithLabels(step, when.ToString().ToLowerInvariant(), result);

    public void Record(SiteSwitchReport report)
    {
        string[] labels = [report.Kind.ToString().ToLowerInvariant(), report.Succeeded ? "succeeded" : "failed"];
        _switches.WithLabels(labels).Inc();
        _duration.WithLabels(labels).Observe(report.Total.TotalSeconds);
    }
}
