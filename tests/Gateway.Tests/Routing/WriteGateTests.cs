using Gateway.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Routing;

/// <summary>The write gate on a fake clock: nothing here waits for real time to pass.</summary>
public sealed class WriteGateTests
{
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(5);

    // Only a bound against a hang: every task awaited with it is already complete, or completes without the clock moving.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly WriteGate _gate;

    public WriteGateTests() => _gate = new WriteGate(maxHeld: 2, MaxHold, _time);

    private Task<WriteAdmission> Admit(CancellationToken cancellation = default) => _gate.AdmitAsync(cancellation).AsTask();

    [Fact]
    public async Task An_open_gate_lets_a_write_through_at_once_and_counts_it_in_flight_until_it_completes()
    {
        Assert.Equal(WriteAdmission.Proceed, await Admit());
        Assert.Equal((false, 0, 1), (_gate.IsClosed, _gate.Held, _gate.InFlight));

        _gate.Completed();

        Assert.Equal(0, _gate.InFlight);
    }

    [Fact]
    public async Task A_closed_gate_holds_a_write_until_it_opens_and_then_lets_it_through()
    {
        _gate.Close();
        var admission = Admit();
        _time.Advance(MaxHold - TimeSpan.FromTicks(1));

        Assert.False(admission.IsCompleted);
        Assert.Equal((true, 1, 0), (_gate.IsClosed, _gate.Held, _gate.InFlight));

        _gate.Open();

        Assert.Equal(WriteAdmission.Proceed, await admission.WaitAsync(Patience));
        Assert.Equal((false, 0, 1), (_gate.IsClosed, _gate.Held, _gate.InFlight));
    }

    [Fact]
    public async Task Past_the_bound_on_held_writes_a_write_is_refused_at_once_and_the_held_ones_still_wait()
    {
        _gate.Close();
        var first = Admit();
        var second = Admit();

        Assert.Equal(WriteAdmission.Refused, await Admit());
        Assert.False(first.IsCompleted || second.IsCompleted);
        Assert.Equal(2, _gate.Held);

        _gate.Open();

        var admissions = await Task.WhenAll(first, second).WaitAsync(Patience);
        Assert.Equal([WriteAdmission.Proceed, WriteAdmission.Proceed], admissions);
        Assert.Equal((0, 2), (_gate.Held, _gate.InFlight));
    }

    [Fact]
    public async Task A_write_held_for_the_whole_hold_time_is_refused_and_no_longer_counted_as_held()
    {
        _gate.Close();
        var admission = Admit();

        _time.Advance(MaxHold);

        Assert.Equal(WriteAdmission.Refused, await admission.WaitAsync(Patience));
        Assert.Equal((true, 0, 0), (_gate.IsClosed, _gate.Held, _gate.InFlight));
    }

    [Fact]
    public async Task A_held_write_whose_client_goes_away_is_cancelled_and_no_longer_counted_as_held()
    {
        _gate.Close();
        using var clientGone = new CancellationTokenSource();
        var admission = Admit(clientGone.Token);

        await clientGone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => admission.WaitAsync(Patience));
        Assert.Equal((0, 0), (_gate.Held, _gate.InFlight));
    }

    [Fact]
    public async Task Closing_twice_and_opening_twice_are_harmless()
    {
        _gate.Close();
        _gate.Close();
        var admission = Admit();
        _gate.Open();
        _gate.Open();

        Assert.Equal(WriteAdmission.Proceed, await admission.WaitAsync(Patience));
        Assert.False(_gate.IsClosed);
    }

    [Fact]
    public async Task Drain_with_nothing_in_flight_succeeds_at_once()
    {
        Assert.True(await _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None).WaitAsync(Patience));
    }

    [Fact]
    public async Task Drain_ends_when_the_last_write_in_flight_completes_without_the_clock_moving()
    {
        await Admit();
        await Admit();
        _gate.Close();

        var drain = _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        _gate.Completed();

        Assert.False(drain.IsCompleted, "drained with a write still in flight");

        _gate.Completed();

        Assert.True(await drain.WaitAsync(Patience));
    }

    [Fact]
    public async Task Drain_gives_up_at_its_limit_and_leaves_the_writes_in_flight_counted()
    {
        await Admit();
        var drain = _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));

        Assert.False(drain.IsCompleted);

        _time.Advance(TimeSpan.FromTicks(1));

        Assert.False(await drain.WaitAsync(Patience));
        Assert.Equal(1, _gate.InFlight);
    }

    [Fact]
    public async Task Drain_with_a_limit_of_zero_answers_at_once()
    {
        await Admit();

        Assert.False(await _gate.DrainAsync(TimeSpan.Zero, CancellationToken.None).WaitAsync(Patience));
        Assert.False(await _gate.DrainAsync(TimeSpan.FromSeconds(-1), CancellationToken.None).WaitAsync(Patience));
    }

    [Fact]
    public async Task Two_drains_end_together_and_a_later_drain_waits_for_writes_admitted_since()
    {
        await Admit();
        var first = _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        var second = _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        _gate.Completed();

        var drained = await Task.WhenAll(first, second).WaitAsync(Patience);
        Assert.Equal([true, true], drained);

        await Admit();
        var third = _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.False(third.IsCompleted, "a drain signalled by an earlier write");

        _gate.Completed();

        Assert.True(await third.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_drain_started_as_the_last_write_completes_on_another_thread_never_misses_it()
    {
        const int Rounds = 2000;
        // Two threads of their own (not the pool's few), meeting at the barrier each round: one starts a drain while
        // the other completes the only write in flight.
        using var together = new Barrier(2);
        var completing = Task.Factory.StartNew(() =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                together.SignalAndWait();
                _gate.Completed();
                together.SignalAndWait();
            }
        }, TaskCreationOptions.LongRunning);
        var missed = Task.Factory.StartNew(() =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                _gate.AdmitAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                together.SignalAndWait();
                var drain = _gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
                together.SignalAndWait();
                if (!drain.Wait(Patience))
                {
                    return $"round {round}: the drain missed the completion of the last write";
                }
            }

            return null;
        }, TaskCreationOptions.LongRunning);

        Assert.Null(await missed.WaitAsync(Rounds * Patience));
        await completing.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_cancelled_drain_throws_and_the_writes_stay_in_flight()
    {
        await Admit();
        using var cancellation = new CancellationTokenSource();
        var drain = _gate.DrainAsync(TimeSpan.FromSeconds(30), cancellation.Token);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drain.WaitAsync(Patience));
        Assert.Equal(1, _gate.InFlight);
    }

    [Fact]
    public async Task A_fenced_gate_holds_writes_through_a_switchs_open_and_lets_them_through_only_when_unfenced()
    {
        _gate.Fence();
        _gate.Close();
        var held = Admit();
        _gate.Open();
        await Task.Yield();

        Assert.False(held.IsCompleted);
        Assert.True(_gate.IsClosed);

        _gate.Unfence();

        Assert.Equal(WriteAdmission.Proceed, await held);
        Assert.False(_gate.IsClosed);
    }

    [Fact]
    public async Task A_fenced_gate_refuses_a_held_write_at_the_hold_bound()
    {
        _gate.Fence();
        var held = Admit();

        _time.Advance(MaxHold);

        Assert.Equal(WriteAdmission.Refused, await held);
    }
}
