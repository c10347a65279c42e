namespace Gateway.Coordinator.State;

/// <summary>
/// What the gateway must remember across restarts: the fencing epoch, which site is active and which node is the
/// one primary writes may reach. A change is persisted before any action is taken on it (DESIGN.md §3), and
/// <see cref="Switching"/> says whether the change was still being carried out when the state was written.
/// </summary>
public sealed record DurableState(long Epoch, string ActiveSite, string DatabasePrimary, bool Switching, DateTimeOffset ChangedAt, string Reason)
{
    public static DurableState Initial(string activeSite, DateTimeOffset now) =>
        new(1, activeSite, activeSite, Switching: false, now, $"first start: active site {activeSite} from the configuration");
}
