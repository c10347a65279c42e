using System.Net;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>GET /readyz on real gateway processes in cluster mode: what a keepalived or load balancer check asks.</summary>
[Integration]
public sealed class ClusterReadinessEndpointTests(ITestOutputHelper output)
{
    [EtcdFact]
    public async Task Both_gateways_are_ready_without_a_token_and_neither_is_while_etcds_quorum_is_lost_until_it_returns()
    {
        await using var system = await ClusterSystem.StartAsync();
        var anonymous = system.Gateways.Select(g => new HttpClient { BaseAddress = g.Admin.BaseAddress, Timeout = TimeSpan.FromSeconds(3) }).ToArray();
        try
        {
            var leader = await ReadyAsync(anonymous[0]);
            var follower = await ReadyAsync(anonymous[1]);
            Assert.Equal(HttpStatusCode.OK, leader.Status);
            Assert.StartsWith("ready: leads, routes by epoch 1", leader.Reason, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, follower.Status);
            Assert.StartsWith("ready: follows gw1, routes by epoch 1", follower.Reason, StringComparison.Ordinal);

            system.Etcd.Members[1].Kill();
            system.Etcd.Members[2].Kill();
            var lost = await WaitForAsync(anonymous[1], HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(10));
            Assert.StartsWith("no valid cluster session", lost.Reason, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadyAsync(anonymous[0])).Status);

            await system.Etcd.RestartAsync(1);
            await system.Etcd.RestartAsync(2);
            var back = await WaitForAsync(anonymous[1], HttpStatusCode.OK, TimeSpan.FromSeconds(30));
            Assert.StartsWith("ready:", back.Reason, StringComparison.Ordinal);
            output.WriteLine($"quorum lost: gw2 /readyz 503 \"{lost.Reason.Trim()}\"; back: 200 \"{back.Reason.Trim()}\"");
        }
        finally
        {
            foreach (var client in anonymous)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<(HttpStatusCode Status, string Reason)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/readyz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<(HttpStatusCode Status, string Reason)> WaitForAsync(HttpClient client, HttpStatusCode wanted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var answer = await ReadyAsync(client);
            if (answer.Status == wanted)
            {
                return answer;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/readyz still answered {(int)answer.Status} \"{answer.Reason.Trim()}\" after {timeout.TotalSeconds} s");
            await Task.Delay(100);
        }
    }
}
