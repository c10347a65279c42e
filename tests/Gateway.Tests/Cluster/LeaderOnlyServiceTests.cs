using Gateway.Cluster;
using Gateway.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Cluster;

public sealed class LeaderOnlyServiceTests
{
    /// <summary>Records whether it runs as the leader's service and whether it observes as a follower's.</summary>
    private sealed class Recorder : IHostedService, IObserveWhileFollowing
    {
        public volatile bool Running;
        public volatile bool Observing;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Assert.False(Observing, "started to act while still observing as a follower");
            Running = true;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Running = false;
            return Task.CompletedTask;
        }

        public async Task ObserveWhileFollowingAsync(CancellationToken cancellation)
        {
            Assert.False(Running, "observing as a follower while acting");
            Observing = true;
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            finally
            {
                Observing = false;
            }
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var giveUpAt = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < giveUpAt, $"not within 10 s: {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_service_that_observes_while_following_observes_whenever_this_gateway_does_not_lead_and_acts_only_while_it_leads()
    {
        var role = new ClusterRole();
        var inner = new Recorder();
        var service = new LeaderOnlyService(inner, role, NullLogger<LeaderOnlyService>.Instance);
        await service.StartAsync(CancellationToken.None);

        await EventuallyAsync(() => inner is { Observing: true, Running: false }, "observing as a follower");
        role.Set(true);
        await EventuallyAsync(() => inner is { Observing: false, Running: true }, "acting as the leader, not observing");
        role.Set(false);
        await EventuallyAsync(() => inner is { Observing: true, Running: false }, "observing again after losing the lead");

        await service.StopAsync(CancellationToken.None);
        Assert.False(inner.Observing || inner.Running);
    }
}
