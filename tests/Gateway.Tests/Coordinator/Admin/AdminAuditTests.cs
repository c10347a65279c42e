using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Audit;
using Gateway.Testing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;

namespace Gateway.Tests.Coordinator.Admin;

/// <summary>The audit log, the failed-token lockout and the body limit on the real gateway, read back from the real file.</summary>
public sealed class AdminAuditTests : EchoSitesTest
{

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings.Values["Gateway:Admin:MaxFailedAuthAttempts"] = "3";
        Settings.Values["Gateway:Admin:FailedAuthWindow"] = "00:00:02";
        await StartGatewayAsync();
    }


    private string AuditFile => Path.Combine(Settings.StateDirectory, AuditLog.FileName);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private HttpClient Client(string? token)
    {
        var client = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(int limit = 100) =>
        JsonSerializer.Deserialize<List<AuditEntry>>(await Gateway.Admin.GetStringAsync($"/admin/audit?limit={limit}"), AdminRequests.Json)!;

    private static string Line(AuditEntry entry) => $"{entry.Method} {entry.Path} {entry.Status}: {entry.Result}";

    [Fact]
    public async Task Every_state_changing_call_and_every_refusal_is_one_line_with_caller_body_status_and_sentence_and_the_token_never_appears()
    {
        using var anonymous = Client(null);
        (await Gateway.Admin.PostAsync("/admin/drain", Json("""{"instance":"a1"}"""))).Dispose();
        (await anonymous.PostAsync("/admin/drain", Json("""{"site":"B"}"""))).Dispose();
        (await Gateway.Admin.PostAsync("/admin/drain", Json("""{"site":"B","x":1}"""))).Dispose();
        (await Gateway.Admin.PostAsync("/admin/undrain", Json("""{"site":"C"}"""))).Dispose();
        (await Gateway.Admin.PostAsync("/admin/drain", Json("""{"site":"B"}"""))).Dispose();
        (await Gateway.Admin.GetAsync("/admin/status")).Dispose();
        (await Gateway.Admin.PostAsync("/admin/undrain", Json("""{"instance":"a1"}"""))).Dispose();

        var entries = await ReadAuditAsync();

        Assert.Equal(
            [
                "POST /admin/drain 200: instance a1 drained: 0 requests in flight",
                "POST /admin/drain 401: missing or wrong admin token (Authorization: Bearer <token>)",
                "POST /admin/drain 400: invalid request body: The JSON property 'x' could not be mapped to any .NET member contained in type 'Gateway.Coordinator.Admin.DrainRequest'.",
                "POST /admin/undrain 404: unknown site 'C'",
                "POST /admin/drain 409: draining site B would leave no instance to route to (drained now: instance a1); undrain something first",
                "POST /admin/undrain 200: instance a1 undrained: routed again",
            ],
            entries.Select(Line));
        Assert.All(entries, entry => Assert.Equal("127.0.0.1", entry.Caller));
        Assert.Equal("""{"site":"B","x":1}""", entries[2].Body);
        Assert.Equal(entries.Count, File.ReadAllLines(AuditFile).Length);
        Assert.DoesNotContain(Settings.AdminToken, File.ReadAllText(AuditFile));
    }

    [Fact]
    public async Task The_audit_log_survives_a_restart_and_new_entries_follow_the_old_ones()
    {
        (await Gateway.Admin.PostAsync("/admin/drain", Json("""{"instance":"a1"}"""))).Dispose();
        await RestartGatewayAsync();
        (await Gateway.Admin.PostAsync("/admin/undrain", Json("""{"instance":"a1"}"""))).Dispose();
        var entries = await ReadAuditAsync();

        Assert.Equal(["POST /admin/drain 200", "POST /admin/undrain 200"], entries.Select(e => $"{e.Method} {e.Path} {e.Status}"));
        Assert.True(entries[0].Time <= entries[1].Time);
    }

    [Fact]
    public async Task Audit_reads_give_the_last_entries_and_refuse_a_bad_limit()
    {
        foreach (var site in new[] { "C", "D", "E" })
        {
            (await Gateway.Admin.PostAsync("/admin/drain", Json($$"""{"site":"{{site}}"}"""))).Dispose();
        }

        var lastTwo = await ReadAuditAsync(limit: 2);
        using var bad = await Gateway.Admin.GetAsync("/admin/audit?limit=0");

        Assert.Equal(["unknown site 'D'", "unknown site 'E'"], lastTwo.Select(e => e.Result));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("limit must be a whole number from 1 to 10000", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task While_the_audit_log_cannot_be_written_state_changing_calls_are_refused_and_change_nothing_until_it_can()
    {
        (await Gateway.Admin.PostAsync("/admin/drain", Json("""{"instance":"a1"}"""))).Dispose();
        File.Delete(AuditFile);
        Directory.CreateDirectory(AuditFile); // root too cannot append to a directory

        // The call that finds the log broken has already acted: it answers truthfully and its entry waits in memory.
        using var undrain = await Gateway.Admin.PostAsync("/admin/undrain", Json("""{"instance":"a1"}"""));
        using var refused = await Gateway.Admin.PostAsync("/admin/drain", Json("""{"instance":"b1"}"""));
        var whileBroken = await Gateway.StatusAsync();
        var failures = (await MetricsScrape.FetchAsync(Gateway.Admin.BaseAddress!)).Value("gateway_admin_audit_failures_total");
        Directory.Delete(AuditFile);
        using var accepted = await Gateway.Admin.PostAsync("/admin/drain", Json("""{"instance":"b1"}"""));

        Assert.Equal(HttpStatusCode.OK, undrain.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("the audit log cannot be written", await refused.Content.ReadAsStringAsync());
        Assert.Empty(whileBroken.Drained.Instances);
        Assert.True(failures >= 2, $"{failures} audit failures counted");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(
            ["POST /admin/undrain 200", "POST /admin/drain 503", "POST /admin/drain 200"],
            (await ReadAuditAsync()).Select(e => $"{e.Method} {e.Path} {e.Status}"));
    }

    [Fact]
    public async Task After_the_limit_of_wrong_tokens_the_address_gets_429_even_with_the_right_token_until_the_window_passes()
    {
        using var intruder = Client(Settings.AdminToken + "x");
        var wrong = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await intruder.GetAsync("/admin/status");
            wrong.Add(response.StatusCode);
        }

        using var right = await Gateway.Admin.PostAsync("/admin/drain", Json("""{"instance":"a1"}"""));
        var lockedOut = (await MetricsScrape.FetchAsync(Gateway.Admin.BaseAddress!)).Value("gateway_admin_auth_refusals_total{reason=\"locked_out\"}");
        var entries = File.ReadAllLines(AuditFile).Select(line => JsonSerializer.Deserialize<AuditEntry>(line, AdminRequests.Json)!).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var afterWindow = await Gateway.StatusAsync();

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, (HttpStatusCode)429], wrong);
        Assert.Equal((HttpStatusCode)429, right.StatusCode);
        Assert.InRange(int.Parse(right.Headers.RetryAfter!.ToString()), 1, 2);
        Assert.Empty(afterWindow.Drained.Instances);
        Assert.Equal(2, lockedOut);
        // Three 401s and the lockout's first 429 are audited; the 429 of the right token is only counted.
        Assert.Equal(["GET 401", "GET 401", "GET 401", "GET 429"], entries.Select(e => $"{e.Method} {e.Status}"));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_and_audited_with_its_first_2_KiB()
    {
        var body = $$"""{"site":"{{new string('A', 17 * 1024)}}"}""";

        using var response = await Gateway.Admin.PostAsync("/admin/drain", Json(body));
        using var anonymous = Client(null);
        using var stranger = await anonymous.PostAsync("/admin/drain", Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than admin requests may be (16384 bytes)", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
        var entry = (await ReadAuditAsync())[0];
        Assert.Equal((413, true), (entry.Status, entry.BodyTruncated));
        Assert.True(entry.Body is null || entry.Body.Length <= AuditLog.MaxBodyBytes);
    }
}
