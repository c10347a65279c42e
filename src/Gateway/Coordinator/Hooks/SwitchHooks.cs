using Gateway.Configuration;
using Gateway.Coordinator.Switching;
using Gateway.Model;
using Gateway.Operations;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Hooks;

/// <summary>The switch a hook runs for, as its environment describes it.</summary>
public sealed record SwitchDescription(SwitchKind Kind, string From, string To, Func<long> Epoch);

/// <summary>
/// The configured hooks (Gateway:Coordinator:Hooks), run for one switch at a time through a <see cref="HookSession"/>:
/// each hook in the order configured, its run journaled, counted, logged and kept for the report, and a failure
/// judged by <see cref="HookFailurePolicy"/>.
/// </summary>
public sealed partial class SwitchHooks(
    IHookProcess process,
    IOptions<GatewayOptions> options,
    Alarms alarms,
    SwitchMetrics metrics,
    TimeProvider time,
    ILogger<SwitchHooks> logger)
{
    /// <summary>Raised when a hook failed and the switch went on anyway; cleared when the next switch starts.</summary>
    public const string HookFailedAlarm = "switch-hook-failed";

    private readonly List<HookOptions> _hooks = options.Value.Coordinator.Hooks;
    private readonly IHookProcess _process = process;
    private readonly TimeProvider _time = time;

    /// <param name="withinAnother">An operation run inside another (the rejoin after a switchover): the outer one's hook alarm stays.</param>
    public HookSession Begin(SwitchDescription description, StepJournal journal, bool withinAnother = false)
    {
        if (!withinAnother)
        {
            alarms.Clear(HookFailedAlarm);
        }

        return new HookSession(this, description, journal);
    }

    /// <summary>The hooks of one switch: runs those configured at each point, and keeps every run for the report.</summary>
    public sealed class HookSession
    {
        private readonly SwitchHooks _owner;
        private readonly SwitchDescription _switch;
        private readonly StepJournal _journal;
        private readonly List<HookRun> _runs = [];

        internal HookSession(SwitchHooks owner, SwitchDescription description, StepJournal journal)
        {
            _owner = owner;
            _switch = description;
            _journal = journal;
        }

        public IReadOnlyList<HookRun> Runs => _runs.ToList();

        /// <summary>
        /// Runs every hook configured for <paramref name="step"/> at <paramref name="when"/>, in order. Returns null when
        /// the switch may go on, or the verdict that stops it (the hooks after the failing one are then not run).
        /// </summary>
        /// <param name="extraEnvironment">Variables only this point has (the result of the whole switch, for its After hooks).</param>
        public async Task<HookFailureVerdict?> RunAsync(string step, HookWhen when, bool databaseMoved, CancellationToken cancellation,
            IReadOnlyDictionary<string, string>? extraEnvironment = null)
        {
            foreach (var hook in _owner._hooks.Where(h => h.Step == step && h.When == when))
            {
                var run = await _journal.RunAsync($"{when} hook of {step}: {hook.Command}", async () =>
                {
                    var run = await RunOneAsync(hook, step, when, databaseMoved, extraEnvironment ?? new Dictionary<string, string>(), cancellation);
                    return (run, Describe(run));
                });
                _runs.Add(run);
                if (run.Result != HookRun.Succeeded && HookFailurePolicy.Decide(_switch.Kind, when, databaseMoved) is { Action: HookFailureAction.AbortSwitch } abort)
                {
                    return abort;
                }
            }

            return null;
        }

        private async Task<HookRun> RunOneAsync(HookOptions hook, string step, HookWhen when, bool databaseMoved, IReadOnlyDictionary<string, string> extra, CancellationToken cancellation)
        {
            var startedAt = _owner._time.GetUtcNow();
            var result = await _owner._process.RunAsync(hook.Command, Environment(step, when, extra), hook.Timeout, cancellation);
            var outcome = result.Succeeded ? HookRun.Succeeded : result.TimedOut ? HookRun.TimedOutResult : HookRun.Failed;
            var consequence = result.Succeeded ? null : HookFailurePolicy.Decide(_switch.Kind, when, databaseMoved);
            var output = result.StartFailure is { } failure ? failure + "\n" + result.Output : result.Output;
            var run = new HookRun(step, when, hook.Command, startedAt, result.Duration, result.ExitCode, result.TimedOut, output, outcome, consequence?.Reason);
            _owner.Report(run, consequence);
            return run;
        }

        private Dictionary<string, string> Environment(string step, HookWhen when, IReadOnlyDictionary<string, string> extra)
        {
            var environment = new Dictionary<string, string>(extra)
            {
                ["GATEWAY_SWITCH_KIND"] = _switch.Kind.ToString().ToLowerInvariant(),
                ["GATEWAY_FROM_SITE"] = _switch.From,
                ["GATEWAY_TO_SITE"] = _switch.To,
                ["GATEWAY_EPOCH"] = _switch.Epoch().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["GATEWAY_STEP"] = step,
                ["GATEWAY_HOOK_WHEN"] = when.ToString().ToLowerInvariant(),
            };
            return environment;
        }
    }

    /// <summary>The journal's sentence for a hook run: how it ended, what that means, and its last line of output.</summary>
    public static string Describe(HookRun run)
    {
        var ending = run.TimedOut ? $"killed after its {run.Duration.TotalSeconds:0.#} s timeout" : run.ExitCode is { } code ? $"exit {code}" : "did not start";
        var lastLine = run.Output.TrimEnd().Split('\n')[^1];
        return $"{ending}{(run.Consequence is { } consequence ? "; " + consequence : "")}{(lastLine.Length > 0 ? $"; output: {lastLine}" : "")}";
    }

    private void Report(HookRun run, HookFailureVerdict? consequence)
    {
        metrics.RecordHook(run);
        if (consequence is null)
        {
            Log.Succeeded(logger, run.When, run.Step, run.Command, (long)run.Duration.TotalMilliseconds);
            return;
        }

        Log.Failed(logger, run.When, run.Step, run.Command, Describe(run), run.Output);
        if (consequence.Action == HookFailureAction.Continue)
        {
            alarms.Raise(HookFailedAlarm, $"{run.When} hook of {run.Step} ({run.Command}) failed: {Describe(run)}");
        }
    }
}
