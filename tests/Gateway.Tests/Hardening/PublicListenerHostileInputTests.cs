using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Hardening;

/// <summary>
/// The hostile-input suite for the public listener, against the real gateway and recording backends, while a good
/// client keeps making requests. Every test ends with the same two proofs: no backend received anything but the
/// good client's requests and the ones a test expected (nothing smuggled, nothing refused yet forwarded), and the
/// good client is still being served without a single error.
/// </summary>
[Integration]
public sealed class PublicListenerHostileInputTests(HostileInputGateway gateway) : IClassFixture<HostileInputGateway>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        gateway.AssertOnlyExpectedRequestsReceived();
        await gateway.GoodClient.AssertStillServedAsync();
    }

    [Theory]
    [MemberData(nameof(HostileRequests.Names), MemberType = typeof(HostileRequests))]
    public async Task A_hostile_request_is_refused_and_its_connection_closed_before_any_backend_sees_it(string name)
    {
        var request = HostileRequests.Named(name);

        var exchange = await RawHttp.SendAsync(gateway.Port, request.Bytes);

        Assert.True(exchange.FirstStatus == request.Status && exchange.ClosedByServer, $"expected {request.Status} and a close; got {exchange}");
        Assert.Single(exchange.Statuses);
        Assert.Empty(gateway.ReceivedAt($"/v/{name}"));
        gateway.AssertOnlyExpectedRequestsReceived();
    }

    [Fact]
    public async Task Http2_with_prior_knowledge_is_not_spoken_on_the_public_port()
    {
        var exchange = await RawHttp.SendAsync(gateway.Port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

        // Kestrel answers the preface with one HTTP/2 GOAWAY frame (type 7) carrying HTTP_1_1_REQUIRED (0xd), and closes.
        Assert.True(exchange.ClosedByServer, $"the connection was not closed: {exchange}");
        Assert.Equal(17, exchange.Text.Length);
        Assert.Equal(7, exchange.Text[3]);
        Assert.Equal(0xd, exchange.Text[^1]);
    }

    [Fact]
    public async Task Forwarding_headers_from_the_client_are_replaced_with_what_the_gateway_saw()
    {
        const string path = "/v/forwarding-spoof";
        gateway.ExpectForwarded(path);

        var exchange = await RawHttp.SendAsync(gateway.Port,
            $"GET {path} HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\n" +
            "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n" +
            "X-Forwarded-Prefix: /admin\r\nForwarded: for=6.6.6.6;host=evil.example;proto=https\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, exchange.FirstStatus);
        var seen = Assert.Single(gateway.ReceivedAt(path)).Headers;
        Assert.Equal("127.0.0.1", seen["X-Forwarded-For"]);
        Assert.Equal(HostileInputGateway.AllowedHost, seen["X-Forwarded-Host"]);
        Assert.Equal("http", seen["X-Forwarded-Proto"]);
        Assert.False(seen.ContainsKey("X-Forwarded-Prefix"), "X-Forwarded-Prefix reached the backend");
        Assert.False(seen.ContainsKey("Forwarded"), "Forwarded reached the backend");
    }

    [Fact]
    public async Task Method_override_headers_are_stripped_so_a_read_stays_a_read()
    {
        const string path = "/v/method-override";
        gateway.ExpectForwarded(path);

        var exchange = await RawHttp.SendAsync(gateway.Port,
            $"GET {path} HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\n" +
            "X-HTTP-Method-Override: DELETE\r\nX-HTTP-Method: PUT\r\nX-Method-Override: POST\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, exchange.FirstStatus);
        var seen = Assert.Single(gateway.ReceivedAt(path));
        Assert.Equal("GET", seen.Method);
        Assert.DoesNotContain(seen.Headers.Keys, header => header.Contains("Method", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Kestrel reads "+3" as 3 and the forwarded request carries a canonical "Content-Length: 3": the only parser of
    /// the client's bytes is the gateway's, so both sides agree on the framing. Accepted, and shown to be harmless.
    /// </summary>
    [Fact]
    public async Task A_content_length_with_a_plus_sign_is_forwarded_with_its_canonical_value_and_exact_body()
    {
        const string path = "/v/cl-plus-sign";
        gateway.ExpectForwarded(path);

        var exchange = await RawHttp.SendAsync(gateway.Port,
            $"POST {path} HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\nContent-Length: +3\r\nConnection: close\r\n\r\nabc");

        Assert.Equal(200, exchange.FirstStatus);
        var seen = Assert.Single(gateway.ReceivedAt(path));
        Assert.Equal("3", seen.Headers["Content-Length"]);
        Assert.Equal("abc", Encoding.ASCII.GetString(seen.Body!));
    }

    [Fact]
    public async Task A_well_formed_chunked_body_is_checked_then_forwarded_whole()
    {
        const string path = "/v/chunked-good";
        gateway.ExpectForwarded(path);

        var exchange = await RawHttp.SendAsync(gateway.Port,
            $"POST {path} HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\nTransfer-Encoding:  chunked\r\nConnection: close\r\n\r\n" +
            "3;name=value\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");

        Assert.Equal(200, exchange.FirstStatus);
        Assert.Equal("abcdefg", Encoding.ASCII.GetString(Assert.Single(gateway.ReceivedAt(path)).Body!));
    }

    [Fact]
    public async Task Slowloris_headers_trickled_a_byte_at_a_time_are_cut_off_after_the_headers_timeout()
    {
        // 300 bytes at 50 ms each would take 15 s; the headers timeout is 2 s.
        var request = $"GET /v/slowloris HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\nX-Slow: {new string('s', 230)}\r\n\r\n";

        var (exchange, written) = await RawHttp.TrickleAsync(gateway.Port, "", request, TimeSpan.FromMilliseconds(50));

        Assert.True(exchange.ClosedByServer, $"the connection was not closed: {exchange}");
        Assert.True(written < request.Length, "the whole request got through before the cut");
        Assert.True(exchange.Statuses is [] or [408], $"expected nothing or 408; got {exchange}");
        Assert.Empty(gateway.ReceivedAt("/v/slowloris"));
    }

    /// <summary>A body with a Content-Length streams through, so the backend sees it begin; the gateway cuts the slow sender and the backend never gets the whole body.</summary>
    [Fact]
    public async Task A_body_trickled_below_the_minimum_data_rate_is_cut_off_and_never_completes_at_the_backend()
    {
        const string path = "/v/slow-body";
        gateway.ExpectForwarded(path);
        var head = $"POST {path} HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\nContent-Length: 400\r\n\r\n";

        var (exchange, written) = await RawHttp.TrickleAsync(gateway.Port, head, new string('b', 400), TimeSpan.FromMilliseconds(50));

        Assert.True(exchange.ClosedByServer, $"the connection was not closed: {exchange}");
        Assert.True(written < 400, "the whole body got through before the cut");
        Assert.Null(Assert.Single(gateway.ReceivedAt(path)).Body);
    }

    [Fact]
    public async Task An_idle_connection_and_one_that_never_sends_a_byte_are_closed_after_the_keep_alive_timeout()
    {
        gateway.ExpectForwarded("/v/keep-alive");
        using var silent = await RawHttp.ConnectAsync(gateway.Port);
        using var idle = await RawHttp.ConnectAsync(gateway.Port);
        var stream = idle.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v/keep-alive HTTP/1.1\r\nHost: {HostileInputGateway.AllowedHost}\r\n\r\n"));

        var silentClosed = RawHttp.ReadUntilClosedAsync(silent.GetStream());
        var idleClosed = RawHttp.ReadUntilClosedAsync(stream);

        Assert.True((await silentClosed).ClosedByServer, "a connection that never sent anything stayed open");
        var answered = await idleClosed;
        Assert.True(answered.ClosedByServer && answered.Statuses is [200], $"expected one 200 then a close; got {answered}");
    }
}
