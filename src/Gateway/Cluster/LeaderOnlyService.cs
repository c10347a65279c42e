using Gateway.Hosting;

namespace Gateway.Cluster;

/// <summary>
/// Runs a hosted service that acts on the outside world (the site coordinator, the database supervisor, the SAN
/// replication, backups) only while this gateway leads: started when it becomes the acting leader, stopped (its
/// running step cancelled) as soon as it is not. A new leader's coordinator starts by finishing an interrupted switch,
/// as after a restart. A service that observes while it follows (<see cref="IObserveWhileFollowing"/>) does so
/// whenever this gateway does not lead.
/// </summary>
public sealed partial class LeaderOnlyService(IHostedService inner, ClusterRole role, ILogger<LeaderOnlyService> logger) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private bool _running;
    private (CancellationTokenSource Stop, Task Running)? _observing;

    public IHostedService Inner => inner;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => FollowAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task FollowAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            var changed = role.ChangedAsync();
            try
            {
                await ApplyAsync(role.Acting, cancellation);
                await changed.WaitAsync(cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.Failed(logger, inner.GetType().Name, e.Message, e);
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    private async Task ApplyAsync(bool acting, CancellationToken cancellation)
    {
        if (acting && !_running)
        {
            await StopObservingAsync();
            Log.Starting(logger, inner.GetType().Name);
            _running = true;
            await inner.StartAsync(cancellation);
        }
        else if (!acting && _running)
        {
            Log.Stopping(logger, inner.GetType().Name);
            _running = false;
            await inner.StopAsync(CancellationToken.None);
        }

        if (!acting && _observing is null && inner is IObserveWhileFollowing observer)
        {
            var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            _observing = (stop, Task.Run(() => ObserveAsync(observer, stop.Token), CancellationToken.None));
        }
    }

    private async Task ObserveAsync(IObserveWhileFollowing observer, CancellationToken cancellation)
    {
        try
        {
            await observer.ObserveWhileFollowingAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // This gateway leads now, or stops.
        }
        catch (Exception e)
        {
            Log.Failed(logger, inner.GetType().Name, e.Message, e);
        }
    }

    private async Task StopObservingAsync()
    {
        if (_observing is { } observing)
        {
            _observing = null;
            await observing.Stop.CancelAsync();
            await observing.Running;
            observing.Stop.Dispose();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _loop;
        await StopObservingAsync();
        if (_running)
        {
            _running = false;
            await inner.StopAsync(cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "cluster: this gateway leads: starting {Service}")]
        public static partial void Starting(ILogger logger, string service);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "cluster: this gateway no longer leads: stopping {Service} (its running step is abandoned)")]
        public static partial void Stopping(ILogger logger, string service);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "cluster: starting or stopping {Service} failed: {Message}")]
        public static partial void Failed(ILogger logger, string service, string message, Exception exception);
    }
}
