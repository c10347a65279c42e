using Gateway.Operations;
using Gateway.Database.Failover;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Coordinator.Operations;

/// <summary>The skeleton of every operation: one at a time, its journal, its report in the history, its summary logged; on a fake clock.</summary>
public sealed class ExclusiveOperationTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 14, 5, 9, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-exclusive-").FullName;
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeLogger _logger = new();
    private readonly OperationGate _gate;
    private readonly OperationHistory _history;
    private readonly ExclusiveOperation _operations;
    private readonly RecordingPublisher _published = new();

    public ExclusiveOperationTests()
    {
        _gate = new OperationGate(_time);
        _history = new OperationHistory(_directory, new FakeLogger<OperationHistory>());
        _operations = new ExclusiveOperation(_gate, _history, _published, _time);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed record Report(bool Succeeded, string Summary, IReadOnlyList<StepRecord> Steps, DateTimeOffset StartedAt, TimeSpan Total) : IOperationReport;

    /// <summary>A body of one journaled step that takes <paramref name="duration"/> on the clock, reporting its steps and times.</summary>
    private Func<OperationRun, Task<Report>> OneStep(string summary, TimeSpan duration) => async run =>
    {
        await run.Journal.RunAsync("fence A", () =>
        {
            _time.Advance(duration);
            return Task.FromResult("fenced");
        });
        return new Report(true, summary, run.Journal.Steps, run.StartedAt, run.Elapsed);
    };

    [Fact]
    public async Task The_report_carries_the_journal_of_its_steps_and_its_times_and_goes_to_the_history_under_its_kind()
    {
        var report = await _operations.RunAsync(OperationSpec.Promotion("B"), _logger, OneStep("site B is primary", TimeSpan.FromSeconds(3)));

        Assert.Equal((true, "site B is primary", Start, TimeSpan.FromSeconds(3)), (report.Succeeded, report.Summary, report.StartedAt, report.Total));
        Assert.Equal([new StepRecord("fence A", Start, TimeSpan.FromSeconds(3), "fenced")], report.Steps);
        var recorded = Assert.Single(_history.Read<Report>(HistoryKinds.Promotion));
        Assert.Equal(report.Summary, recorded.Summary);
        Assert.Equal(report.Steps, recorded.Steps);
        Assert.Empty(_history.Read<Report>(HistoryKinds.Rejoin));
    }

    /// <summary>Keeps every publication, in order (the cluster's publisher writes the newest to etcd).</summary>
    private sealed class RecordingPublisher : IOperationPublisher
    {
        public List<PublishedOperation> All { get; } = [];

        public PublishedOperation? Latest => All.LastOrDefault();

        public PublishedOperation? RunningElsewhere => null;

        public void Publish(PublishedOperation operation) => All.Add(operation);
    }

    [Fact]
    public async Task Its_progress_is_published_as_each_step_starts_and_ends_and_once_more_when_it_has_ended()
    {
        await _operations.RunAsync(OperationSpec.Promotion("B"), _logger, OneStep("site B is primary", TimeSpan.FromSeconds(3)));

        Assert.Equal(
            [("fence A", 0, false, null), (null, 1, false, null), (null, 1, true, "site B is primary")],
            _published.All.Select(p => (p.Running, p.Steps.Count, p.Ended, p.Outcome)));
        Assert.All(_published.All, p => Assert.Equal(("promotion of B", Start), (p.Description, p.Since)));
        Assert.Equal("promotion of B had done 1 step(s), the last 'fence A'", _published.All[^1].Where);
        Assert.Equal("promotion of B run by gw1 was at 'fence A' after 0 step(s)", (_published.All[0] with { RunBy = "gw1" }).Where);
    }

    [Fact]
    public async Task An_operation_that_throws_is_published_as_ended_too()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _operations.RunAsync<Report>(OperationSpec.Rejoin("A"), _logger, _ => throw new InvalidOperationException("boom")));

        var last = _published.All[^1];
        Assert.Equal((true, "ended by an exception (see the log)"), (last.Ended, last.Outcome));
    }

    [Fact]
    public async Task Its_steps_are_logged_under_its_name_and_its_summary_under_its_title()
    {
        await _operations.RunAsync(OperationSpec.Rejoin("A"), _logger, OneStep("site A is a streaming standby of B again", TimeSpan.FromMilliseconds(250)));

        Assert.Equal(
            [
                (LogLevel.Information, "rejoin of A: fence A (250 ms): fenced"),
                (LogLevel.Warning, "Rejoin of A: site A is a streaming standby of B again"),
            ],
            _logger.Collector.GetSnapshot().Select(line => (line.Level, line.Message)));
    }

    [Fact]
    public async Task While_one_runs_another_is_refused_naming_it_and_the_gate_shows_its_live_journal()
    {
        var release = new TaskCompletionSource();
        var running = _operations.RunAsync(OperationSpec.SiteSwitch("switchover", "B"), _logger, async run =>
        {
            await run.Journal.RunAsync("hold writes", () => Task.FromResult("held"));
            await release.Task;
            return new Report(true, "site B is active", run.Journal.Steps, run.StartedAt, run.Elapsed);
        });
        _time.Advance(TimeSpan.FromSeconds(30));

        var refused = await Assert.ThrowsAsync<OperationInProgressException>(() =>
            _operations.RunAsync(OperationSpec.Rejoin("A"), _logger, OneStep("never", TimeSpan.Zero)));

        Assert.Equal("a switchover to B is running (since 14:05:09); try again when it has ended", refused.Message);
        Assert.Equal(["hold writes"], _gate.Current?.Journal.Steps.Select(step => step.Step));
        release.SetResult();
        await running;
        Assert.Null(_gate.Current);
        Assert.Empty(_history.Read<Report>(HistoryKinds.Rejoin));
    }

    [Fact]
    public async Task An_operation_within_another_runs_under_the_holders_gate_with_a_journal_and_a_history_entry_of_its_own()
    {
        Report? rejoin = null;
        var failback = await _operations.RunAsync(OperationSpec.FailbackPreparation("A"), _logger, async run =>
        {
            rejoin = await _operations.RunWithinAsync(run, OperationSpec.Rejoin("A"), _logger, OneStep("site A streams", TimeSpan.FromSeconds(5)));
            Assert.Equal("a failback preparation of A", _gate.Current?.Description);
            return new Report(true, "site A is a replica of B again", run.Journal.Steps, run.StartedAt, run.Elapsed);
        });

        Assert.Empty(failback.Steps);
        Assert.Equal(TimeSpan.FromSeconds(5), failback.Total);
        Assert.Equal(["fence A"], rejoin!.Steps.Select(step => step.Step));
        Assert.Equal("site A streams", Assert.Single(_history.Read<Report>(HistoryKinds.Rejoin)).Summary);
        Assert.Equal("site A is a replica of B again", Assert.Single(_history.Read<Report>(HistoryKinds.SiteSwitch)).Summary);
    }

    [Fact]
    public async Task A_body_that_throws_records_nothing_and_releases_the_gate()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _operations.RunAsync<Report>(OperationSpec.Promotion("B"), _logger, _ => throw new InvalidOperationException("pg_promote timed out")));

        Assert.Null(_gate.Current);
        Assert.Empty(_history.Read<Report>(HistoryKinds.Promotion));
        var next = await _operations.RunAsync(OperationSpec.Promotion("B"), _logger, OneStep("site B is primary", TimeSpan.Zero));
        Assert.True(next.Succeeded);
    }

    [Fact]
    public void A_resumed_promotion_is_refused_to_others_by_its_own_description()
    {
        var spec = OperationSpec.ResumedPromotion("B");

        Assert.Equal((HistoryKinds.Promotion, "resumed promotion of B", "the resumed promotion of B"), (spec.Kind, spec.Name, spec.Description));
    }
}
