using Gateway.Database.Failover;
using Gateway.Observability;

namespace Gateway.Operations;

/// <summary>What every operation's report says, whatever else it holds: whether it did what it was asked, in one sentence.</summary>
public interface IOperationReport
{
    bool Succeeded { get; }

    string Summary { get; }
}

/// <summary>
/// What an operation is called where it shows: <see cref="Kind"/> in the history, <see cref="Name"/> in its journal's
/// log lines, <see cref="Description"/> in the refusal of another one, <see cref="Span"/> (tagged with
/// <see cref="Target"/>) in traces, <see cref="Title"/> before its summary in the log.
/// </summary>
public sealed record OperationSpec(string Kind, string Name, string Span, string Title, string Target)
{
    public string Description { get; init; } = "a " + Name;

    /// <param name="verb">"switchover", "failover".</param>
    public static OperationSpec SiteSwitch(string verb, string to) => new(HistoryKinds.SiteSwitch, $"{verb} to {to}", "site switch", "Site switch", to);

    public static OperationSpec FailbackPreparation(string old) => new(HistoryKinds.SiteSwitch, $"failback preparation of {old}", "failback preparation", "Failback preparation", old);

    public static OperationSpec Promotion(string to) => new(HistoryKinds.Promotion, $"promotion of {to}", "database promotion", "Database promotion", to);

    /// <summary>A promotion a restart interrupted, finished by the database supervisor.</summary>
    public static OperationSpec ResumedPromotion(string to) => Promotion(to) with { Name = $"resumed promotion of {to}", Description = $"the resumed promotion of {to}" };

    public static OperationSpec Rejoin(string site) => new(HistoryKinds.Rejoin, $"rejoin of {site}", "database rejoin", $"Rejoin of {site}", site);
}

/// <summary>An operation under way, as its body sees it: the journal its steps go to, and since when it runs.</summary>
public sealed class OperationRun
{
    private readonly TimeProvider _time;

    internal OperationRun(OperationSpec spec, StepJournal journal, TimeProvider time)
    {
        Spec = spec;
        Journal = journal;
        _time = time;
        StartedAt = time.GetUtcNow();
    }

    public OperationSpec Spec { get; }

    public StepJournal Journal { get; }

    public DateTimeOffset StartedAt { get; }

    public TimeSpan Elapsed => _time.GetUtcNow() - StartedAt;
}

/// <summary>
/// The skeleton every operation that moves the active site, the primary or a node's role shares (site switch,
/// promotion, rejoin, failback preparation): one at a time (<see cref="OperationGate"/>), a journal of its steps, a
/// span, its report in the durable history and its summary in the log. The body only does the work and returns the
/// report. An operation run inside another (a switch's promotion, the rejoin after it) keeps its own journal, span
/// and history entry, under the holder's gate.
/// </summary>
public sealed partial class ExclusiveOperation(OperationGate gate, OperationHistory history, IOperationPublisher publisher, TimeProvider time)
{
    /// <exception cref="OperationInProgressException">Another operation runs; the message names it.</exception>
    public async Task<T> RunAsync<T>(OperationSpec spec, ILogger logger, Func<OperationRun, Task<T>> body) where T : IOperationReport
    {
        var since = time.GetUtcNow();
        var run = new OperationRun(spec, new StepJournal(time, logger, spec.Name, journal =>
            publisher.Publish(new PublishedOperation(spec.Name, since, journal.Steps, journal.Running, Ended: false))), time);
        using var scope = gate.Begin(spec.Description, run.Journal);
        var outcome = "ended by an exception (see the log)";
        try
        {
            var report = await RunBodyAsync(run, logger, body);
            outcome = report.Summary;
            return report;
        }
        finally
        {
            publisher.Publish(new PublishedOperation(spec.Name, since, run.Journal.Steps, null, Ended: true, outcome));
        }
    }

    /// <summary>An operation that is part of <paramref name="holder"/>'s, which holds the gate for it.</summary>
    public Task<T> RunWithinAsync<T>(OperationRun holder, OperationSpec spec, ILogger logger, Func<OperationRun, Task<T>> body) where T : IOperationReport
    {
        ArgumentNullException.ThrowIfNull(holder);
        return RunBodyAsync(new OperationRun(spec, new StepJournal(time, logger, spec.Name), time), logger, body);
    }

    /// <summary>A body that throws records nothing: its caller sees the exception, and the journal has logged the step that threw.</summary>
    private async Task<T> RunBodyAsync<T>(OperationRun run, ILogger logger, Func<OperationRun, Task<T>> body) where T : IOperationReport
    {
        using var span = GatewayTelemetry.Source.StartActivity(run.Spec.Span);
        span?.SetTag("gateway.to", run.Spec.Target);
        var report = await body(run);
        span?.SetTag("gateway.succeeded", report.Succeeded);
        history.Record(run.Spec.Kind, report);
        Log.Finished(logger, run.Spec.Title, report.Summary);
        return report;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "{Operation}: {Summary}")]
        public static partial void Finished(ILogger logger, string operation, string summary);
    }
}
