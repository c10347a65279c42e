using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Coordinator.Admin;
using Gateway.Testing;

namespace Gateway.Tests.Support;

/// <summary>The real gateway (both hosts, real Kestrel listeners on free loopback ports) started in the test process.</summary>
public sealed class RunningGateway : IAsyncDisposable
{
    private RunningGateway(GatewaySettings settings, GatewayHost host)
    {
        Settings = settings;
        Host = host;
        Public = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings.PublicPort}"), Timeout = TimeSpan.FromSeconds(30) };
        // Rejoining a node (a base backup) can take minutes; the admin call waits for it.
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings.AdminPort}"), Timeout = TimeSpan.FromMinutes(5) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.AdminToken);
    }

    public GatewaySettings Settings { get; }
    public GatewayHost Host { get; }
    public HttpClient Public { get; }
    public HttpClient Admin { get; }

    public static async Task<RunningGateway> StartAsync(GatewaySettings settings)
    {
        RealParts.Starting("a gateway with real listeners");
        var host = GatewayHost.Create(settings.Load(), settings.Build());
        await host.StartAsync();
        return new RunningGateway(settings, host);
    }

    /// <summary>Started from the JSON file of <paramref name="settings"/>, as the gateway process reads it: the file is polled for changes.</summary>
    public static async Task<RunningGateway> StartFromJsonFileAsync(GatewaySettings settings)
    {
        RealParts.Starting("a gateway with real listeners");
        var configuration = GatewayConfigurationLoader.BuildConfiguration(settings.WriteJsonFile());
        var host = GatewayHost.Create(GatewayConfigurationLoader.Load(configuration, adminTokenFromEnvironment: false), configuration);
        await host.StartAsync();
        return new RunningGateway(settings, host);
    }

    public async Task<GatewayStatus> StatusAsync()
    {
        var json = await Admin.GetStringAsync("/admin/status");
        return JsonSerializer.Deserialize<GatewayStatus>(json, AdminRequests.Json)!;
    }

    /// <summary>Polls the admin status until <paramref name="condition"/> holds; fails with the last status when it does not within the bound.</summary>
    public async Task<GatewayStatus> WaitForAsync(Func<GatewayStatus, bool> condition, string what, TimeSpan within)
    {
        var giveUpAt = DateTime.UtcNow + within;
        while (true)
        {
            var status = await StatusAsync();
            if (condition(status))
            {
                return status;
            }

            if (DateTime.UtcNow > giveUpAt)
            {
                throw new TimeoutException($"not {what} within {within.TotalSeconds:0} s; status: {JsonSerializer.Serialize(status, AdminRequests.Json)}");
            }

            await Task.Delay(100);
        }
    }

    public async Task<string> HealthOfAsync(string instanceId) =>
        (await StatusAsync()).Instances.Single(i => i.Id == instanceId).Health;

    /// <summary>Polls the admin status until the instance reports the wanted health; returns how long that took.</summary>
    public async Task<TimeSpan> WaitForHealthAsync(string instanceId, string health, TimeSpan limit)
    {
        var started = DateTime.UtcNow;
        while (DateTime.UtcNow - started < limit)
        {
            if (await HealthOfAsync(instanceId) == health)
            {
                return DateTime.UtcNow - started;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"instance {instanceId} did not become {health} within {limit}; status: {await Admin.GetStringAsync("/admin/status")}");
    }

    public async Task WaitForAllHealthyAsync(TimeSpan limit)
    {
        var started = DateTime.UtcNow;
        while ((await StatusAsync()).Instances.Any(i => i.Health != "Healthy"))
        {
            if (DateTime.UtcNow - started > limit)
            {
                throw new TimeoutException($"not every instance became healthy within {limit}: {await Admin.GetStringAsync("/admin/status")}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        Admin.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
    }
}
