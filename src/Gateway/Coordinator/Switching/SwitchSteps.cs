namespace Gateway.Coordinator.Switching;

/// <summary>
/// The stable ids of a site switch's steps (kebab-case): what hooks are configured on, what each journal entry
/// carries beside its sentence, what GATEWAY_STEP says. The sentences may change wording; these ids never do.
/// </summary>
public static class SwitchSteps
{
    /// <summary>The whole switch: its Before hooks run before anything is changed, its After hooks once it has ended, however it ended.</summary>
    public const string Switch = "switch";

    public const string PersistEpoch = "persist-epoch";
    public const string HoldWrites = "hold-writes";
    public const string DrainWrites = "drain-writes";
    public const string MoveDatabase = "move-database";
    public const string FinishFilestoreReplication = "finish-filestore-replication";
    public const string FlipFilestoreLinks = "flip-filestore-links";
    public const string RouteWrites = "route-writes";
    public const string ReplicateBack = "replicate-back";

    /// <summary>Undoing an abandoned switch; not hookable (a hook failing there could only make things worse).</summary>
    public const string RollBack = "roll-back";

    /// <summary>Every step a hook can be configured on, in the order a switchover runs them.</summary>
    public static readonly IReadOnlyList<string> Hookable =
        [Switch, PersistEpoch, HoldWrites, DrainWrites, MoveDatabase, FinishFilestoreReplication, FlipFilestoreLinks, RouteWrites, ReplicateBack];
}
