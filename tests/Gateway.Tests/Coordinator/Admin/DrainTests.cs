using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Coordinator.Admin;
using Gateway.Model;
using Gateway.Testing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;

namespace Gateway.Tests.Coordinator.Admin;

/// <summary>Drain and undrain on the real gateway in front of two real backends per site, counted by what each backend received.</summary>
[Integration]
public sealed class DrainTests : IAsyncLifetime
{
    private const int Requests = 40;
    private readonly Dictionary<string, EchoBackend> _backends = [];
    private GatewaySettings _settings = null!;
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        foreach (var id in new[] { "a1", "a2", "b1", "b2" })
        {
            _backends[id] = await EchoBackend.StartAsync(id);
        }

        _settings = new GatewaySettings([_backends["a1"].Url, _backends["a2"].Url], [_backends["b1"].Url, _backends["b2"].Url]);
        await StartGatewayAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        foreach (var backend in _backends.Values)
        {
            await backend.DisposeAsync();
        }

        _settings.Dispose();
    }

    private async Task StartGatewayAsync()
    {
        _gateway = await RunningGateway.StartAsync(_settings);
        await _gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string body) =>
        await _gateway.Admin.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task<DrainReport> DrainAsync(string path, string body)
    {
        using var response = await PostAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} {body}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<DrainReport>(text, AdminRequests.Json)!;
    }

    /// <summary>Sends <see cref="Requests"/> requests through the public port and returns how many each backend received.</summary>
    private async Task<Dictionary<string, int>> SendAsync(HttpMethod method)
    {
        var before = _backends.ToDictionary(pair => pair.Key, pair => pair.Value.Received.Count);
        for (var i = 0; i < Requests; i++)
        {
            using var response = await _gateway.Public.SendAsync(new HttpRequestMessage(method, $"/deposits?n={i}") { Content = method == HttpMethod.Post ? new ByteArrayContent([1]) : null });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        return _backends.ToDictionary(pair => pair.Key, pair => pair.Value.Received.Count - before[pair.Key]);
    }

    [Fact]
    public async Task A_drained_instance_gets_none_of_the_next_requests_while_the_others_share_them_and_undrain_brings_it_back()
    {
        var report = await DrainAsync("/admin/drain", """{"instance":"a1"}""");
        var drained = await SendAsync(HttpMethod.Get);
        await DrainAsync("/admin/undrain", """{"instance":"a1"}""");
        var undrained = await SendAsync(HttpMethod.Get);

        Assert.Equal(("instance a1 drained: 0 requests in flight", true), (report.Summary, report.Changed));
        Assert.Equal(0, drained["a1"]);
        Assert.All(new[] { "a2", "b1", "b2" }, id => Assert.True(drained[id] > 0, $"{id} got none of {Requests} reads: {string.Join(", ", drained)}"));
        Assert.True(undrained["a1"] > 0, $"a1 got none of {Requests} reads after undrain: {string.Join(", ", undrained)}");
    }

    [Fact]
    public async Task Draining_the_active_site_sends_writes_to_the_other_site_as_when_it_has_no_healthy_instance()
    {
        var before = await SendAsync(HttpMethod.Post);
        await DrainAsync("/admin/drain", """{"site":"A"}""");
        var during = await SendAsync(HttpMethod.Post);

        Assert.Equal(Requests, before["a1"] + before["a2"]);
        Assert.Equal((0, 0, Requests), (during["a1"], during["a2"], during["b1"] + during["b2"]));
        var status = await _gateway.StatusAsync();
        Assert.Equal("A", status.ActiveSite);
        Assert.Equal(["a1:True", "a2:True", "b1:False", "b2:False"], status.Instances.Select(i => $"{i.Id}:{i.Drained}"));
        Assert.Equal(["A"], status.Drained.Sites);
    }

    [Fact]
    public async Task Under_write_policy_require_writes_to_a_drained_active_site_are_refused_with_503_naming_the_drain()
    {
        await _gateway.DisposeAsync();
        _settings.Values["Gateway:Routing:WritePolicy"] = "Require";
        await StartGatewayAsync();
        await DrainAsync("/admin/drain", """{"site":"A"}""");

        using var write = await _gateway.Public.PostAsync("/deposits", new ByteArrayContent([1]));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
        Assert.Contains("drained: site A", await write.Content.ReadAsStringAsync());
        Assert.All(_backends.Values, backend => Assert.DoesNotContain(backend.Received, r => r.Method == "POST"));
    }

    [Fact]
    public async Task A_request_in_flight_on_a_drained_instance_finishes_and_the_drain_reports_it()
    {
        // Only a1 routable, so the held read lands there; then B comes back so a1 can be drained without leaving nothing.
        await DrainAsync("/admin/drain", """{"site":"B"}""");
        await DrainAsync("/admin/drain", """{"instance":"a2"}""");
        var release = new TaskCompletionSource();
        _backends["a1"].HoldRequests = release.Task;
        var held = _gateway.Public.GetAsync("/deposits/held");
        while ((await _gateway.StatusAsync()).Instances.Single(i => i.Id == "a1").InFlight == 0)
        {
            await Task.Delay(20);
        }

        await DrainAsync("/admin/undrain", """{"site":"B"}""");
        var report = await DrainAsync("/admin/drain", """{"instance":"a1"}""");
        release.SetResult();
        using var answer = await held;

        Assert.Equal((1, "instance a1 drained: 1 request in flight"), (report.InFlight, report.Summary));
        Assert.Equal("a1 GET /deposits/held", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_drain_survives_a_gateway_restart()
    {
        await DrainAsync("/admin/drain", """{"instance":"b2"}""");
        await _gateway.DisposeAsync();

        await StartGatewayAsync();
        var status = await _gateway.StatusAsync();
        var counts = await SendAsync(HttpMethod.Get);

        Assert.Equal(["b2"], status.Drained.Instances);
        Assert.True(status.Instances.Single(i => i.Id == "b2").Drained);
        Assert.Equal(0, counts["b2"]);
    }

    [Fact]
    public async Task Draining_twice_answers_200_saying_so_and_undraining_what_is_not_drained_too()
    {
        await DrainAsync("/admin/drain", """{"site":"B"}""");
        var again = await DrainAsync("/admin/drain", """{"site":"B"}""");
        var notDrained = await DrainAsync("/admin/undrain", """{"instance":"a1"}""");

        Assert.Equal(("site B was already drained: 0 requests in flight", false), (again.Summary, again.Changed));
        Assert.Equal(("instance a1 was not drained (still drained: site B)", false), (notDrained.Summary, notDrained.Changed));
    }

    [Theory]
    [InlineData("/admin/drain", "{}", 400, "give exactly one of the fields site and instance")]
    [InlineData("/admin/drain", """{"site":"A","instance":"a1"}""", 400, "give exactly one")]
    [InlineData("/admin/drain", """{"site":1}""", 400, "invalid request body")]
    [InlineData("/admin/drain", """{"site":"A","now":true}""", 400, "'now' could not be mapped")]
    [InlineData("/admin/drain", """{"site":"C"}""", 404, "unknown site 'C'")]
    [InlineData("/admin/undrain", """{"instance":"z9"}""", 404, "unknown instance 'z9'")]
    [InlineData("/admin/drain", """{"site":"A"}""", 409, "would leave no instance to route to (drained now: site B)")]
    public async Task A_bad_drain_request_is_refused_with_a_clear_error_and_changes_nothing(string path, string body, int status, string message)
    {
        await DrainAsync("/admin/drain", """{"site":"B"}""");
        var drainFile = File.ReadAllText(Path.Combine(_settings.StateDirectory, DrainState.FileName));

        using var response = await PostAsync(path, body);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
        Assert.Equal(drainFile, File.ReadAllText(Path.Combine(_settings.StateDirectory, DrainState.FileName)));
        var drained = (await _gateway.StatusAsync()).Drained;
        Assert.Equal(["B"], drained.Sites);
        Assert.Empty(drained.Instances);
    }

    [Fact]
    public async Task The_drained_gauge_is_1_for_each_drained_instance_and_promtool_accepts_the_scrape()
    {
        await DrainAsync("/admin/drain", """{"site":"B"}""");
        await DrainAsync("/admin/drain", """{"instance":"a1"}""");

        var scrape = await MetricsScrape.FetchAsync(_gateway.Admin.BaseAddress!);

        Assert.Equal(
            [1, 0, 1, 1],
            new[] { ("A", "a1"), ("A", "a2"), ("B", "b1"), ("B", "b2") }.Select(i => scrape.Value($"gateway_instance_drained{{service_instance=\"{i.Item2}\",site=\"{i.Item1}\"}}")));
        await PrometheusTools.CheckMetricsAsync(scrape.Text);
    }
}
