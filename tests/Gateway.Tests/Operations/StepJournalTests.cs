using System.Diagnostics;
using Gateway.Observability;
using Gateway.Operations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Operations;

/// <summary>The journal of an operation's steps, timed on a fake clock.</summary>
public sealed class StepJournalTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeLogger _logger = new();
    private readonly StepJournal _journal;

    public StepJournalTests() => _journal = new StepJournal(_time, _logger, "promotion of B");

    /// <summary>A step that takes <paramref name="duration"/> on the fake clock and ends with <paramref name="outcome"/>.</summary>
    private Func<Task<string>> Taking(TimeSpan duration, string outcome) => () =>
    {
        _time.Advance(duration);
        return Task.FromResult(outcome);
    };

    [Fact]
    public async Task Each_step_is_kept_in_order_with_its_start_its_duration_on_the_clock_its_sentence_and_its_id()
    {
        await _journal.RunAsync("fence-primary", "fence the old primary", Taking(TimeSpan.FromMilliseconds(1500), "fenced A"));
        var promoted = await _journal.RunAsync("promote", () =>
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            return Task.FromResult((42L, "promoted B at LSN 42"));
        });

        Assert.Equal(42L, promoted);
        Assert.Equal(
            [
                new StepRecord("fence the old primary", Start, TimeSpan.FromMilliseconds(1500), "fenced A", "fence-primary"),
                new StepRecord("promote", Start.AddMilliseconds(1500), TimeSpan.FromSeconds(2), "promoted B at LSN 42"),
            ],
            _journal.Steps);
    }

    [Fact]
    public async Task Each_step_is_logged_as_one_line_with_the_operation_and_its_duration()
    {
        await _journal.RunAsync("route", Taking(TimeSpan.FromMilliseconds(250), "endpoints routed to B"));

        var line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal("promotion of B: route (250 ms): endpoints routed to B", line.Message);
    }

    [Fact]
    public async Task A_step_that_throws_is_kept_as_failed_with_the_message_and_the_exception_goes_on()
    {
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => _journal.RunAsync("promote", () =>
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            throw new InvalidOperationException("pg_promote timed out");
        }));

        Assert.Equal("pg_promote timed out", thrown.Message);
        Assert.Equal([new StepRecord("promote", Start, TimeSpan.FromSeconds(3), "failed: pg_promote timed out")], _journal.Steps);
        Assert.Equal("promotion of B: promote (3000 ms): failed: pg_promote timed out", _logger.LatestRecord.Message);
    }

    [Fact]
    public async Task The_steps_read_are_a_copy_that_later_steps_do_not_change()
    {
        await _journal.RunAsync("first", Taking(TimeSpan.Zero, "done"));
        var read = _journal.Steps;

        await _journal.RunAsync("second", Taking(TimeSpan.Zero, "done"));

        Assert.Equal(["first"], read.Select(step => step.Step));
        Assert.Equal(["first", "second"], _journal.Steps.Select(step => step.Step));
    }

    [Fact]
    public async Task Each_step_is_a_span_under_the_operations_span_tagged_with_its_outcome_or_its_error()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source == GatewayTelemetry.Source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var operation = $"test operation {Guid.NewGuid():N}";
        var journal = new StepJournal(_time, _logger, operation);

        using (var parent = GatewayTelemetry.Source.StartActivity("the operation"))
        {
            await journal.RunAsync("fence", Taking(TimeSpan.Zero, "fenced A"));
            await Assert.ThrowsAsync<TimeoutException>(() => journal.RunAsync("promote", () => throw new TimeoutException("no answer")));

            List<Activity> steps;
            lock (stopped)
            {
                steps = stopped.Where(activity => Equals(activity.GetTagItem("gateway.operation"), operation)).ToList();
            }

            Assert.Equal(["fence", "promote"], steps.Select(span => span.OperationName));
            Assert.All(steps, span => Assert.Equal(parent!.SpanId, span.ParentSpanId));
            Assert.Equal("fenced A", steps[0].GetTagItem("gateway.outcome"));
            Assert.Equal((ActivityStatusCode.Error, "no answer"), (steps[1].Status, steps[1].StatusDescription));
        }
    }
}
