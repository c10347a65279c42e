using Gateway.Coordinator.Supervision;
using Microsoft.Extensions.Time.Testing;
using Polly;

namespace Gateway.Tests.Coordinator.Supervision;

/// <summary>The retry of an interrupted switch's resume: its back-off, waited out on a fake clock.</summary>
public sealed class ResumeRetryTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly List<TimeSpan> _delays = [];
    private readonly List<DateTimeOffset> _attempts = [];
    private readonly SemaphoreSlim _attempted = new(0);

    /// <param name="jitter">The random draw behind the jitter, fixed to make the schedule predictable; random when null.</param>
    private ResiliencePipeline<bool> Pipeline(double? jitter = null)
    {
        var options = ResumeRetry.Options;
        if (jitter is { } draw)
        {
            options.Randomizer = () => draw;
        }

        options.OnRetry = args =>
        {
            lock (_delays)
            {
                _delays.Add(args.RetryDelay);
            }

            return default;
        };
        return ResumeRetry.Create(_time, options);
    }

    /// <summary>An attempt that finishes the switch on the <paramref name="finishing"/>th try.</summary>
    private Func<CancellationToken, ValueTask<bool>> FinishingOn(int finishing) => _ =>
    {
        bool finished;
        lock (_attempts)
        {
            _attempts.Add(_time.GetUtcNow());
            finished = _attempts.Count == finishing;
        }

        _attempted.Release();
        return ValueTask.FromResult(finished);
    };

    private async Task NextAttemptAsync() => Assert.True(await _attempted.WaitAsync(TimeSpan.FromSeconds(10)), "no attempt came");

    [Fact]
    public async Task A_switch_finished_at_the_first_attempt_is_not_tried_again()
    {
        Assert.True(await Pipeline().ExecuteAsync(FinishingOn(1)));

        Assert.Equal([Start], _attempts);
        Assert.Empty(_delays);
    }

    [Fact]
    public async Task Each_retry_comes_when_its_back_off_has_passed_on_the_clock_and_not_a_millisecond_before()
    {
        var resuming = Pipeline().ExecuteAsync(FinishingOn(4)).AsTask();
        await NextAttemptAsync();

        for (var retry = 0; retry < 3; retry++)
        {
            TimeSpan delay;
            lock (_delays)
            {
                delay = _delays[retry];
            }

            // Task.Delay waits whole milliseconds: the back-off, less its fraction of a millisecond.
            _time.Advance(delay - TimeSpan.FromMilliseconds(1));
            Assert.False(await _attempted.WaitAsync(TimeSpan.FromMilliseconds(50)), $"retry {retry + 1} came before its back-off of {delay} had passed");
            _time.Advance(TimeSpan.FromMilliseconds(1));
            await NextAttemptAsync();
        }

        Assert.True(await resuming);
        var waited = _attempts.Zip(_attempts.Skip(1), (before, after) => after - before).ToList();
        Assert.All(_delays.Zip(waited), pair => Assert.InRange(pair.Second, pair.First - TimeSpan.FromMilliseconds(1), pair.First));
    }

    [Fact]
    public async Task The_back_off_grows_from_about_the_first_delay_to_the_maximum_and_stays_there()
    {
        var delays = await RetryScheduleAsync(Pipeline(jitter: 0.5), attempts: 12);

        Assert.InRange(delays[0], ResumeRetry.FirstDelay / 2, ResumeRetry.FirstDelay * 2);
        Assert.All(delays.Zip(delays.Skip(1)), pair => Assert.True(pair.Second >= pair.First, $"{pair.Second} after {pair.First}"));
        Assert.All(delays.TakeLast(4), delay => Assert.Equal(ResumeRetry.MaxDelay, delay));
    }

    [Fact]
    public async Task With_random_jitter_no_back_off_is_zero_or_longer_than_the_maximum()
    {
        var delays = await RetryScheduleAsync(Pipeline(), attempts: 20);

        Assert.Equal(19, delays.Count);
        Assert.All(delays, delay => Assert.InRange(delay, TimeSpan.FromTicks(1), ResumeRetry.MaxDelay));
    }

    /// <summary>Runs until the switch finishes at attempt <paramref name="attempts"/>, the clock advanced by the maximum back-off after each; the back-offs taken.</summary>
    private async Task<IReadOnlyList<TimeSpan>> RetryScheduleAsync(ResiliencePipeline<bool> pipeline, int attempts)
    {
        var resuming = pipeline.ExecuteAsync(FinishingOn(attempts)).AsTask();
        for (var attempt = 1; attempt < attempts; attempt++)
        {
            await NextAttemptAsync();
            _time.Advance(ResumeRetry.MaxDelay);
        }

        Assert.True(await resuming);
        lock (_delays)
        {
            return _delays.ToList();
        }
    }

    [Fact]
    public async Task A_resume_stopped_by_shutdown_ends_at_once_without_another_attempt()
    {
        using var stopping = new CancellationTokenSource();
        var resuming = Pipeline().ExecuteAsync(FinishingOn(int.MaxValue), stopping.Token).AsTask();
        await NextAttemptAsync();

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resuming);
        Assert.Single(_attempts);
    }
}
