using System.Net;
using System.Net.Http.Headers;
using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Coordinator.Admin;

public sealed class AdminEndpointsTests : IAsyncLifetime
{
    private EchoBackend _a1 = null!;
    private EchoBackend _b1 = null!;
    private GatewaySettings _settings = null!;
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _a1 = await EchoBackend.StartAsync("a1");
        _b1 = await EchoBackend.StartAsync("b1");
        _settings = new GatewaySettings([_a1.Url], [_b1.Url]);
        _gateway = await RunningGateway.StartAsync(_settings);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _a1.DisposeAsync();
        await _b1.DisposeAsync();
        _settings.Dispose();
    }

    [Fact]
    public async Task Status_without_a_token_is_401_and_reveals_nothing()
    {
        using var anonymous = new HttpClient { BaseAddress = _gateway.Admin.BaseAddress };
        using var response = await anonymous.GetAsync("/status");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("a1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Status_with_a_wrong_token_is_401()
    {
        using var intruder = new HttpClient { BaseAddress = _gateway.Admin.BaseAddress };
        intruder.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _settings.AdminToken + "x");

        using var response = await intruder.GetAsync("/status");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Status_with_the_token_shows_sites_instances_and_database_endpoints()
    {
        await _gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
        var status = await _gateway.StatusAsync();

        Assert.Equal("A", status.ActiveSite);
        Assert.Equal(["a1:A:Healthy", "b1:B:Healthy"], status.Instances.Select(i => $"{i.Id}:{i.Site}:{i.Health}"));
        Assert.Equal(("A", 5432), (status.Database.Write.Site, status.Database.Write.Port));
        Assert.Equal(("B", 5433), (status.Database.Read.Site, status.Database.Read.Port));
    }

    [Fact]
    public async Task Liveness_needs_no_token()
    {
        using var anonymous = new HttpClient { BaseAddress = _gateway.Admin.BaseAddress };
        Assert.Equal("ok\n", await anonymous.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task The_admin_port_never_proxies_and_the_public_port_never_answers_admin_routes()
    {
        using var onAdmin = await _gateway.Admin.GetAsync("/deposits/x");
        using var onPublic = await _gateway.Public.GetAsync("/status");

        Assert.Equal(HttpStatusCode.NotFound, onAdmin.StatusCode);
        // The public port forwarded /status to an instance like any other path; the gateway's status never answers there.
        Assert.Matches("^(a1|b1) GET /status$", await onPublic.Content.ReadAsStringAsync());
    }
}
