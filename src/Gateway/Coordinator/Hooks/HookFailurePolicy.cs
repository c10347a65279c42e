using Gateway.Configuration;
using Gateway.Coordinator.Switching;

namespace Gateway.Coordinator.Hooks;

public enum HookFailureAction
{
    /// <summary>Stop the switch before its step and undo what it did so far (the old site stays active).</summary>
    AbortSwitch,

    /// <summary>Record the failure, raise the alarm, and go on with the switch.</summary>
    Continue,
}

public sealed record HookFailureVerdict(HookFailureAction Action, string Reason);

/// <summary>
/// What a failing hook (non-zero exit or timeout) means for the operation it belongs to, as a pure function. Only a
/// planned switchover or a rejoin may be stopped by a hook, and only by a Before hook while nothing has moved: until
/// then an abort leaves everything as it was. A failover, a failback or a database promotion goes on (a site or a
/// primary that died will not come back because a pager script failed), and an After hook cannot undo its step.
/// </summary>
public static class HookFailurePolicy
{
    public static HookFailureVerdict Decide(SwitchKind kind, HookWhen when, bool databaseMoved)
    {
        if (when == HookWhen.After)
        {
            return new(HookFailureAction.Continue, "an After hook's failure is recorded; the step it followed has happened and stays");
        }

        if (kind == SwitchKind.Rejoin)
        {
            return new(HookFailureAction.AbortSwitch, "a failing Before hook stops a rejoin before the node is touched");
        }

        if (kind != SwitchKind.Switchover)
        {
            return new(HookFailureAction.Continue, $"a {kind.ToString().ToLowerInvariant()} goes on despite a failing hook: the site or primary it leaves may be gone for good");
        }

        return databaseMoved
            ? new(HookFailureAction.Continue, "the switchover goes on: the database has already moved, so stopping now would leave the sites split")
            : new(HookFailureAction.AbortSwitch, "a failing Before hook stops a planned switchover while the database has not moved");
    }
}
