using System.Text.Json.Serialization;

namespace Gateway.Model;

/// <summary>
/// What the gateway must remember across restarts: the fencing epoch, which site is active and which node is the
/// one primary writes may reach. A change is persisted before any action is taken on it (docs/architecture.md, section 2), and
/// <see cref="Switching"/> says whether the change was still being carried out when the state was written.
/// </summary>
/// <param name="AwaitingRejoin">The old primary of the last move, until it has rejoined as a standby (after an unplanned move Database:RejoinAfterFailover decides who rejoins it).</param>
/// <param name="Planned">
/// The switch under way, or the move that left <paramref name="AwaitingRejoin"/>, was a planned switchover: its old
/// primary was stopped cleanly and follows the new one without an operator, even when the gateway that started the
/// switch is lost before its last step and another one finishes it.
/// </param>
public sealed record DurableState(long Epoch, string ActiveSite, string DatabasePrimary, bool Switching, DateTimeOffset ChangedAt, string Reason, string? AwaitingRejoin = null, bool Planned = false)
{
    public static DurableState Initial(string activeSite, DateTimeOffset now) =>
        new(1, activeSite, activeSite, Switching: false, now, $"first start: active site {activeSite} from the configuration");

    /// <summary>
    /// The interrupted change is a whole-site switch, which the site coordinator finishes (its database step
    /// included), rather than a database promotion alone, which the database supervisor finishes. A site switch names
    /// its target both active site and primary; a promotion alone changes only the primary. (A promotion onto the
    /// active site looks like a site switch to it, and finishing it as one does no more than the promotion would.)
    /// </summary>
    [JsonIgnore]
    public bool SiteSwitchInterrupted => Switching && ActiveSite == DatabasePrimary;
}
