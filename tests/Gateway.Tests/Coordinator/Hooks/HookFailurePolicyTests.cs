using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Switching;

namespace Gateway.Tests.Coordinator.Hooks;

/// <summary>What a failing hook means, for every kind of switch, Before and After, before and after the database moved.</summary>
public sealed class HookFailurePolicyTests
{
    [Theory]
    [InlineData(SwitchKind.Switchover, HookWhen.Before, false, HookFailureAction.AbortSwitch, "stops a planned switchover while the database has not moved")]
    [InlineData(SwitchKind.Switchover, HookWhen.Before, true, HookFailureAction.Continue, "the database has already moved")]
    [InlineData(SwitchKind.Switchover, HookWhen.After, false, HookFailureAction.Continue, "After hook")]
    [InlineData(SwitchKind.Switchover, HookWhen.After, true, HookFailureAction.Continue, "After hook")]
    [InlineData(SwitchKind.Failover, HookWhen.Before, false, HookFailureAction.Continue, "a failover goes on despite a failing hook")]
    [InlineData(SwitchKind.Failover, HookWhen.Before, true, HookFailureAction.Continue, "a failover goes on despite a failing hook")]
    [InlineData(SwitchKind.Failover, HookWhen.After, false, HookFailureAction.Continue, "After hook")]
    [InlineData(SwitchKind.Failback, HookWhen.Before, false, HookFailureAction.Continue, "a failback goes on despite a failing hook")]
    [InlineData(SwitchKind.Failback, HookWhen.After, true, HookFailureAction.Continue, "After hook")]
    public void A_failing_hook_stops_only_a_planned_switchover_and_only_before_the_database_moved(
        SwitchKind kind, HookWhen when, bool databaseMoved, HookFailureAction action, string reason)
    {
        var verdict = HookFailurePolicy.Decide(kind, when, databaseMoved);

        Assert.Equal(action, verdict.Action);
        Assert.Contains(reason, verdict.Reason);
    }
}
