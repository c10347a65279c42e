using Gateway.Database;
using Gateway.Model;
using Gateway.Routing;

namespace Gateway.Backup;

/// <summary>How a hold went: how long writes were held, how long the drain took, and the cut's own result (when it finished within the hold).</summary>
public sealed record HoldOutcome<T>(bool Completed, T? Result, string Outcome, DateTimeOffset HeldAt, TimeSpan Held, TimeSpan Drain);

/// <summary>Thrown when writes cannot be held at all (a site switch runs, no primary is designated): nothing was held.</summary>
public sealed class HoldRefusedException(string message) : Exception(message);

/// <summary>
/// "Hold writes for at most this long, run this meanwhile, then release": whatever the action does, writes are
/// released by the deadline (a late action's result is dropped, and the caller learns it did not complete).
/// </summary>
public interface IWriteHold
{
    Task<HoldOutcome<T>> RunHeldAsync<T>(TimeSpan maxHold, Func<TimeSpan, CancellationToken, Task<T>> whileHeld, CancellationToken cancellation);
}

/// <summary>
/// Holds writes as a site switch does: new HTTP writes wait at the write gate and those in flight are drained, then
/// new connections to the PG write endpoint wait for a primary. PG sessions already open keep running (the
/// service's writes come through the HTTP gate; a direct PG client with an open session is not held). Release
/// gives the routes back only if nothing else changed them meanwhile: a switch that began during the hold owns them.
/// </summary>
public sealed class GatewayWriteHold(WriteGate gate, DatabaseRoutingTable routing, GatewayState state, TimeProvider time) : IWriteHold
{
    public async Task<HoldOutcome<T>> RunHeldAsync<T>(TimeSpan maxHold, Func<TimeSpan, CancellationToken, Task<T>> whileHeld, CancellationToken cancellation)
    {
        if (state.Current.Switching)
        {
            throw new HoldRefusedException($"a site switch is in progress (epoch {state.Current.Epoch})");
        }

        var before = routing.Current;
        if (before.Primary is not { } primary)
        {
            throw new HoldRefusedException("no database primary is designated");
        }

        if (gate.IsClosed)
        {
            throw new HoldRefusedException("writes are already held by another operation");
        }

        var epoch = state.Current.Epoch;
        var heldAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(maxHold);
        gate.Close();
        try
        {
            var drained = await gate.DrainAsync(maxHold, cancellation);
            var drain = time.GetElapsedTime(started);
            if (!drained)
            {
                return new(false, default, $"{gate.InFlight} write(s) still in flight after {maxHold.TotalMilliseconds:0} ms", heldAt, time.GetElapsedTime(started), drain);
            }

            routing.HoldWrites();
            var action = whileHeld(maxHold - drain, deadline.Token);
            var finished = await Task.WhenAny(action, Task.Delay(Timeout.InfiniteTimeSpan, deadline.Token));
            if (finished == action && action.IsCompletedSuccessfully)
            {
                return new(true, action.Result, "done", heldAt, time.GetElapsedTime(started), drain);
            }

            cancellation.ThrowIfCancellationRequested();
            _ = action.ContinueWith(t => t.Exception, TaskScheduler.Default);
            return new(false, default, action.IsFaulted ? action.Exception!.InnerException!.Message : $"not done within the hold of {maxHold.TotalMilliseconds:0} ms",
                heldAt, time.GetElapsedTime(started), drain);
        }
        finally
        {
            Release(primary, before.Epoch, epoch);
        }
    }

    private void Release(string primary, long routesEpoch, long stateEpoch)
    {
        var switching = state.Current.Switching || state.Current.Epoch != stateEpoch;
        if (!switching && routing.Current is { Primary: null } routes && routes.Epoch == routesEpoch)
        {
            routing.DesignatePrimary(primary, routesEpoch);
        }

        if (!switching)
        {
            gate.Open();
        }
    }
}
