using System.Net;
using System.Text.Json;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Health;

[Integration]
[Collection(PostgresCollection.Name)]
public sealed class HealthzTests(BrokerEnvironment environment)
{
    [Fact]
    public async Task A_healthy_broker_says_ok()
    {
        using var api = new BrokerApi(environment.SharedBroker);

        using var response = await api.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("t1", BrokerApi.ServedBy(response));
    }

    [Fact]
    public async Task A_dangling_filestore_link_makes_the_broker_unhealthy_until_it_is_repaired()
    {
        using var filestore = new Filestore();
        await using var broker = environment.NewBroker("h1", environment.BrokerConnectionString(BrokerEnvironment.SharedDatabase), filestore.LinkPath);
        await broker.StartAsync();
        using var api = new BrokerApi(broker);

        filestore.PointAtNothing();
        using var unhealthy = await api.Http.GetAsync("/healthz");
        using var refusedDeposit = await api.DepositAsync("while-dangling.bin", [1]);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
        Assert.Equal("h1", BrokerApi.ServedBy(unhealthy));
        using (var body = JsonDocument.Parse(await unhealthy.Content.ReadAsStringAsync()))
        {
            Assert.Equal("unhealthy", body.RootElement.GetProperty("status").GetString());
            Assert.Contains(filestore.LinkPath, body.RootElement.GetProperty("reason").GetString());
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refusedDeposit.StatusCode);
        Assert.Equal("1", Assert.Single(refusedDeposit.Headers.GetValues("Retry-After")));
        Assert.False(Directory.Exists(Path.Combine(filestore.Root, "missing-site")));

        filestore.PointAtSite();
        using var healthyAgain = await api.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthyAgain.StatusCode);
    }
}
