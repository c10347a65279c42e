using Gateway.Operations;

namespace Gateway.Database.Failover;

/// <summary>
/// What a promotion did, step by step, and what it may have lost. <see cref="UnreplicatedBytes"/> is the WAL the
/// new primary never received: exact when the old primary was reachable (planned), a lower bound from its last
/// observed position when it was not; then <see cref="OldPrimaryLastSeenAt"/> says from when on its acknowledgments
/// are unaccounted for (it may have acknowledged more before it died).
/// </summary>
public sealed record PromotionReport(
    long Epoch,
    string From,
    string To,
    bool Planned,
    bool Forced,
    bool Succeeded,
    string Summary,
    long? UnreplicatedBytes,
    bool UnreplicatedBytesExact,
    DateTimeOffset? OldPrimaryLastSeenAt,
    IReadOnlyList<StepRecord> Steps,
    DateTimeOffset StartedAt,
    TimeSpan Total) : IOperationReport;
