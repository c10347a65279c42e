using Gateway.Operations;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Operations;

/// <summary>One operation at a time, on a fake clock.</summary>
public sealed class OperationGateTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 14, 5, 9, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly OperationGate _gate;

    public OperationGateTests() => _gate = new OperationGate(_time);

    private StepJournal Journal(string operation) => new(_time, NullLogger.Instance, operation);

    [Fact]
    public void The_operation_holding_the_gate_is_shown_with_its_start_and_journal_until_its_scope_ends()
    {
        var journal = Journal("switchover to B");
        Assert.Null(_gate.Current);

        using (_gate.Begin("switchover to B", journal))
        {
            Assert.Equal(new RunningOperation("switchover to B", Start, journal), _gate.Current);
        }

        Assert.Null(_gate.Current);
    }

    [Fact]
    public void A_second_operation_is_refused_naming_the_one_running_and_since_when_and_the_first_keeps_the_gate()
    {
        using var switchover = _gate.Begin("switchover to B", Journal("switchover to B"));
        _time.Advance(TimeSpan.FromSeconds(30));

        var refused = Assert.Throws<OperationInProgressException>(() => _gate.Begin("promotion of B", Journal("promotion of B")));

        Assert.Equal("switchover to B is running (since 14:05:09); try again when it has ended", refused.Message);
        Assert.Equal("switchover to B", _gate.Current?.Description);
    }

    [Fact]
    public void Once_the_gate_is_released_the_next_operation_takes_it_with_its_own_start()
    {
        _gate.Begin("switchover to B", Journal("switchover to B")).Dispose();
        _time.Advance(TimeSpan.FromMinutes(2));

        using var rejoin = _gate.Begin("rejoin of A", Journal("rejoin of A"));

        Assert.Equal(("rejoin of A", Start.AddMinutes(2)), (_gate.Current?.Description, _gate.Current?.Since));
    }

    [Fact]
    public async Task Of_operations_asked_for_at_the_same_moment_exactly_one_takes_the_gate()
    {
        const int Callers = 8;
        using var allReady = new Barrier(Callers);
        // A thread each (not the pool's few), so all of them wait at the barrier together.
        var attempts = Enumerable.Range(0, Callers).Select(caller => Task.Factory.StartNew(() =>
        {
            allReady.SignalAndWait();
            try
            {
                _gate.Begin($"operation {caller}", Journal($"operation {caller}"));
                return true;
            }
            catch (OperationInProgressException)
            {
                return false;
            }
        }, TaskCreationOptions.LongRunning));

        var taken = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Single(taken, took => took);
        Assert.NotNull(_gate.Current);
    }
}
