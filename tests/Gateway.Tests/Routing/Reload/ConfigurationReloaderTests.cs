using Gateway.Routing.Reload;
using Gateway.Testing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Routing.Reload;

/// <summary>
/// The real gateway started from its JSON file, the file then edited the way an operator would: instance lists change
/// while it runs, anything else is refused by name, and a broken file changes nothing.
/// </summary>
public sealed class ConfigurationReloaderTests : EchoSitesTest
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task An_instance_put_in_the_file_takes_the_writes_of_the_one_taken_out_without_a_restart()
    {
        await using var a2 = await EchoBackend.StartAsync("a2");
        await using var gateway = await RunningGateway.StartFromJsonFileAsync(Settings);
        await gateway.WaitForAllHealthyAsync(Within);

        Settings.Values["Gateway:Sites:0:Instances:0:Id"] = "a2";
        Settings.Values["Gateway:Sites:0:Instances:0:Url"] = a2.Url;
        Settings.WriteJsonFile();

        await gateway.WaitForAsync(
            status => status.Instances.Any(i => i.Id == "a2" && i.Health == "Healthy") && status.Instances.All(i => i.Id != "a1"),
            "a2 healthy in place of a1",
            Within);
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Public.PostAsync($"/deposits?name=reload-{i}", new ByteArrayContent([1]));
            response.EnsureSuccessStatusCode();
            Assert.Equal("a2", response.Headers.GetValues("X-Served-By").Single());
        }

        Assert.DoesNotContain(A1.Received, request => request.Method == "POST");
        var scrape = await MetricsScrape.FetchAsync(gateway.Admin.BaseAddress!);
        Assert.True(scrape.Value(Reloads("applied")) >= 1, scrape.Text);
        Assert.Equal(0, scrape.Value(Reloads("refused")));
    }

    [Fact]
    public async Task A_change_only_a_restart_applies_is_refused_by_name_and_a_broken_file_changes_nothing()
    {
        await using var gateway = await RunningGateway.StartFromJsonFileAsync(Settings);
        await gateway.WaitForAllHealthyAsync(Within);
        var reloader = gateway.Host.Public.Services.GetRequiredService<ConfigurationReloader>();

        Settings.Values["Gateway:Sites:0:Instances:1:Id"] = "a9";
        Settings.Values["Gateway:Sites:0:Instances:1:Url"] = "http://127.0.0.1:9";
        Settings.Values["Gateway:Routing:HealthCheck:Interval"] = "00:00:02";
        var file = Settings.WriteJsonFile();
        await WaitForRefusalsAsync(gateway, atLeast: 1);

        var verdict = reloader.Reload();
        Assert.Equal(ReloadAction.Refused, verdict.Action);
        Assert.Contains("Gateway:Routing:HealthCheck:Interval changed, which only a restart applies", verdict.Reason);
        Assert.Equal(new[] { "a1", "b1" }, (await gateway.StatusAsync()).Instances.Select(i => i.Id).Order());

        // Caught half-saved: the file reads as empty, which is refused like any invalid file.
        var refusedSoFar = (await MetricsScrape.FetchAsync(gateway.Admin.BaseAddress!)).Value(Reloads("refused"));
        await File.WriteAllTextAsync(file, "{ \"Gateway\": { \"Sites\": [");
        await WaitForRefusalsAsync(gateway, atLeast: refusedSoFar + 1);
        Assert.Contains("the changed file is invalid: Gateway: section is missing", reloader.Reload().Reason);
        Assert.Equal(new[] { "a1", "b1" }, (await gateway.StatusAsync()).Instances.Select(i => i.Id).Order());
        using var response = await gateway.Public.GetAsync("/still-served");
        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Sighup_reloads_the_file_and_leaves_the_gateway_running()
    {
        await using var a2 = await EchoBackend.StartAsync("a2");
        var file = Settings.WriteJsonFile();
        await using var gateway = GatewayProcess.StartNew(Settings, file);
        await gateway.WaitForAsync(status => status.Instances.All(i => i.Health == "Healthy"), "every instance healthy", Within);

        Settings.Values["Gateway:Sites:0:Instances:1:Id"] = "a2";
        Settings.Values["Gateway:Sites:0:Instances:1:Url"] = a2.Url;
        Settings.WriteJsonFile();
        await gateway.SignalAsync("HUP");

        await gateway.WaitForAsync(status => status.Instances.Any(i => i.Id == "a2"), "a2 listed after SIGHUP", Within);
        Assert.True(gateway.IsRunning, $"SIGHUP ended the gateway\n{gateway.LogTail()}");
        Assert.Contains("SIGHUP received", gateway.Output);
        Assert.Contains("instance lists reloaded: site A: a1 ", gateway.Output);
    }

    private static string Reloads(string result) => $"gateway_config_reloads_total{{result=\"{result}\"}}";

    private static async Task WaitForRefusalsAsync(RunningGateway gateway, double atLeast)
    {
        var giveUpAt = DateTime.UtcNow + Within;
        while (true)
        {
            var scrape = await MetricsScrape.FetchAsync(gateway.Admin.BaseAddress!);
            if (scrape.Value(Reloads("refused")) >= atLeast)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < giveUpAt, $"no refused reload counted within {Within.TotalSeconds} s:\n{scrape.Text}");
            await Task.Delay(100);
        }
    }
}
