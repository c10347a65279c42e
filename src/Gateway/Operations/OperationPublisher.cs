namespace Gateway.Operations;

/// <summary>
/// An operation as every gateway sees it while it runs and after it has ended: what it is, who runs it, the steps done
/// and the one under way. In a cluster the leader publishes it in etcd, so a follower's status shows the leader's
/// progress and a gateway that takes over a half-done switch knows where its predecessor stopped.
/// </summary>
/// <param name="RunBy">The gateway running it (cluster mode; null when the gateway runs alone).</param>
/// <param name="Running">The step under way, null between steps and once it has ended.</param>
/// <param name="Outcome">How it ended (its report's summary); null while it runs.</param>
public sealed record PublishedOperation(
    string Description, DateTimeOffset Since, IReadOnlyList<StepRecord> Steps, string? Running, bool Ended, string? Outcome = null, string? RunBy = null)
{
    /// <summary>Where it stands, in one sentence: "the switchover to B run by gw1 stopped at 'flip filestore links' after 5 step(s)".</summary>
    public string Where => Running is { } step
        ? $"{Description}{By} was at '{step}' after {Steps.Count} step(s)"
        : $"{Description}{By} had done {Steps.Count} step(s){(Steps.Count > 0 ? $", the last '{Steps[^1].Step}'" : "")}";

    private string By => RunBy is null ? "" : $" run by {RunBy}";
}

/// <summary>Where the running operation's progress goes as it happens (<see cref="ExclusiveOperation"/> publishes every step's start and end).</summary>
public interface IOperationPublisher
{
    /// <summary>The last operation published or, in a cluster, seen published by another gateway; null before any.</summary>
    PublishedOperation? Latest { get; }

    /// <summary>The operation another gateway, the one leading now, runs (a follower's view of the leader's progress); null otherwise.</summary>
    PublishedOperation? RunningElsewhere { get; }

    /// <summary>Publishes <paramref name="operation"/>. Never throws: progress that cannot be published is logged, the operation goes on.</summary>
    void Publish(PublishedOperation operation);
}

/// <summary>A gateway running alone: its status reads the progress from memory, and a restart resumes from the durable state alone.</summary>
public sealed class LocalOperationPublisher : IOperationPublisher
{
    private volatile PublishedOperation? _latest;

    public PublishedOperation? Latest => _latest;

    public PublishedOperation? RunningElsewhere => null;

    public void Publish(PublishedOperation operation) => _latest = operation;
}
