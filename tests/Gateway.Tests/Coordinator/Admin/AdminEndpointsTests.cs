using System.Net;
using System.Net.Http.Headers;
using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Coordinator.Admin;

public sealed class AdminEndpointsTests : EchoSitesTest
{

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await StartGatewayAsync();
    }


    [Fact]
    public async Task Status_without_a_token_is_401_and_reveals_nothing()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var response = await anonymous.GetAsync("/admin/status");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("a1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Status_with_a_wrong_token_is_401()
    {
        using var intruder = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        intruder.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Settings.AdminToken + "x");

        using var response = await intruder.GetAsync("/admin/status");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Status_with_the_token_shows_sites_instances_and_database_endpoints()
    {
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
        var status = await Gateway.StatusAsync();

        Assert.Equal("A", status.ActiveSite);
        Assert.Equal(["a1:A:Healthy", "b1:B:Healthy"], status.Instances.Select(i => $"{i.Id}:{i.Site}:{i.Health}"));
        Assert.Equal(1, status.Epoch);
        Assert.Equal("A", status.Database.Primary);

        // No PostgreSQL runs behind this gateway: once observed, writes are held for a failover and reads refused.
        await WaitUntilAsync(async () => (await Gateway.StatusAsync()).Database.Read.Action == "Refuse");
        var database = (await Gateway.StatusAsync()).Database;
        Assert.Equal(("Hold", "primary A unreachable: waiting for it to return or for a failover"), (database.Write.Action, database.Write.Reason));
        Assert.Contains("the standby of site B is unreachable", database.Read.Reason);
        Assert.All(database.Nodes, node => Assert.False(node.Reachable));
    }

    [Theory]
    [InlineData("/admin/switchover", "{\"to\":\"B\",\"now\":true}", 400, "'now' could not be mapped")]
    [InlineData("/admin/switchover", "{}", 400, "missing required properties")]
    [InlineData("/admin/switchover", "{\"to\":", 400, "invalid request body")]
    [InlineData("/admin/failover", "{\"to\":\"B\",\"force\":\"yes\"}", 400, "invalid request body")]
    [InlineData("/admin/failover", "{\"to\":\"C\"}", 404, "unknown site 'C'")]
    [InlineData("/admin/database/rejoin", "{\"site\":\"A\",\"method\":\"Magic\"}", 400, "invalid request body")]
    [InlineData("/admin/failback", "{\"site\":\"A\"}", 400, "'site' could not be mapped")]
    public async Task A_bad_admin_request_is_refused_with_a_clear_error_and_changes_nothing(string path, string body, int status, string message)
    {
        var before = await Gateway.StatusAsync();

        using var response = await Gateway.Admin.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
        var after = await Gateway.StatusAsync();
        Assert.Equal((before.Epoch, before.ActiveSite, before.Switching), (after.Epoch, after.ActiveSite, after.Switching));
    }

    [Fact]
    public async Task A_state_changing_call_without_the_token_is_401_and_changes_nothing()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var response = await anonymous.PostAsync("/admin/switchover", new StringContent("{\"to\":\"B\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(("A", 1L), ((await Gateway.StatusAsync()).ActiveSite, (await Gateway.StatusAsync()).Epoch));
    }

    [Fact]
    public async Task A_switchover_without_a_reachable_primary_is_refused_with_the_reason_and_changes_nothing()
    {
        using var response = await Gateway.Admin.PostAsync("/admin/switchover", new StringContent("{\"to\":\"B\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("the database of site A is not a reachable primary", await response.Content.ReadAsStringAsync());
        var status = await Gateway.StatusAsync();
        Assert.Equal(("A", 1L, false), (status.ActiveSite, status.Epoch, status.Switching));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 100 && !await condition(); attempt++)
        {
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Liveness_and_readiness_need_no_token()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        Assert.Equal("ok\n", await anonymous.GetStringAsync("/healthz"));
        // Alone, a gateway is always ready; in cluster mode only with a trusted session (GatewayClusterTests).
        Assert.Equal("ready\n", await anonymous.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task The_admin_port_never_proxies_and_the_public_port_never_answers_admin_routes()
    {
        using var onAdmin = await Gateway.Admin.GetAsync("/deposits/x");
        using var onPublic = await Gateway.Public.GetAsync("/admin/status");

        Assert.Equal(HttpStatusCode.NotFound, onAdmin.StatusCode);
        // The public port forwarded /admin/status to an instance like any other path; the gateway's status never answers there.
        Assert.Matches("^(a1|b1) GET /admin/status$", await onPublic.Content.ReadAsStringAsync());
    }
}
