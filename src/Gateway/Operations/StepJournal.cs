using System.Diagnostics;
using Gateway.Observability;

namespace Gateway.Operations;

/// <summary>Runs named steps, timing each and keeping the sentence it ends with: the report's timeline and the log lines.</summary>
/// <param name="changed">Called when a step starts and when it ends (the operation's progress is published from it).</param>
public sealed partial class StepJournal(TimeProvider time, ILogger logger, string operation, Action<StepJournal>? changed = null)
{
    private readonly List<StepRecord> _steps = [];
    private volatile string? _running;

    /// <summary>The sentence of the step under way; null between steps.</summary>
    public string? Running => _running;

    /// <summary>The steps so far, as a copy: the admin status reads them while the operation adds more.</summary>
    public IReadOnlyList<StepRecord> Steps
    {
        get
        {
            lock (_steps)
            {
                return _steps.ToList();
            }
        }
    }

    public Task<T> RunAsync<T>(string step, Func<Task<(T Result, string Outcome)>> action) => RunAsync(null, step, action);

    public Task RunAsync(string step, Func<Task<string>> action) => RunAsync(null, step, action);

    /// <param name="id">The step's stable id (kebab-case, see SwitchSteps), kept in its record beside the sentence.</param>
    public Task RunAsync(string? id, string step, Func<Task<string>> action) =>
        RunAsync<bool>(id, step, async () => (true, await action()));

    /// <param name="id">The step's stable id (kebab-case, see SwitchSteps), kept in its record beside the sentence.</param>
    public async Task<T> RunAsync<T>(string? id, string step, Func<Task<(T Result, string Outcome)>> action)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        // A span per step, child of the operation's span when one is current: the timeline in the trace viewer.
        using var span = GatewayTelemetry.Source.StartActivity(step);
        span?.SetTag("gateway.operation", operation);
        _running = step;
        changed?.Invoke(this);
        try
        {
            var (result, outcome) = await action();
            Record(id, step, startedAt, time.GetElapsedTime(started), outcome);
            span?.SetTag("gateway.outcome", outcome);
            return result;
        }
        catch (Exception e)
        {
            Record(id, step, startedAt, time.GetElapsedTime(started), "failed: " + e.Message);
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private void Record(string? id, string step, DateTimeOffset startedAt, TimeSpan duration, string outcome)
    {
        lock (_steps)
        {
            _steps.Add(new StepRecord(step, startedAt, duration, outcome, id));
        }

        _running = null;
        Log.Step(logger, operation, step, (long)duration.TotalMilliseconds, outcome);
        changed?.Invoke(this);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Operation}: {Step} ({Milliseconds} ms): {Outcome}")]
        public static partial void Step(ILogger logger, string operation, string step, long milliseconds, string outcome);
    }
}
