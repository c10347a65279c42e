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
/// What a failing hook (non-zero exit or timeout) means for the switch it belongs to, as a pure function. Only a
/// planned switchover may be stopped by a hook, and only by a Before hook while the database has not moved: until
/// then an abort leaves the old site active with nothing lost. A failover or a failback goes on (a site that died will
/// not come back because a pager script failed), and an After hook cannot undo the step it followed.
/// </summary>
public static class HookFailurePolicy
{
    public static HookFailureVerdict Decide(SwitchKind kind, HookWhen when, bool databaseMoved)
    {
        if (when == HookWhen.After)
        {
            return new(HookFailureAction.Continue, "an After hook's failure is recorded; the step it followed has happened and stays");
        }

        if (kind != SwitchKind.Switchover)
        {
            return new(HookFailureAction.Continue, $"a {kind.ToString().ToLowerInvariant()} goes on despite a failing hook: the site it leaves may be gone for good");
        }

        return databaseMoved
            ? new(HookFailureAction.Continue, "the switchover goes on: the database has already moved, so stopping now would leave the sites split")
            : new(HookFailureAction.AbortSwitch, "a failing Before hook stops a planned switchover while the database has not moved");
    }
}
