using System.Diagnostics;
using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Observability;

/// <summary>
/// Traces end to end: a client's W3C trace context goes through the gateway to the instance, and the gateway's spans
/// reach a real OTLP endpoint. Other tests' gateways in this process may export into the same trace listeners, so
/// the assertions look for this test's own trace id, never for an exact set of spans.
/// </summary>
public sealed class TracingTests : EchoSitesTest
{
    private OtlpReceiver _collector = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _collector = await OtlpReceiver.StartAsync();
        Settings.Values["Gateway:Observability:OtlpEndpoint"] = _collector.Url;
        // Every request traced: these tests look for the spans of single requests without a caller's trace.
        Settings.Values["Gateway:Observability:TraceSampleRatio"] = "1";
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task The_instance_gets_the_callers_trace_with_a_parent_span_the_gateway_exports()
    {
        var callerTrace = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        var gateway = await RunningGateway.StartAsync(Settings);
        await using (gateway)
        {
            await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/deposits?name=traced") { Content = new ByteArrayContent([1]) };
            request.Headers.Add("traceparent", $"00-{callerTrace.ToHexString()}-{callerSpan.ToHexString()}-01");
            using var client = CallerOf(gateway);
            using var response = await client.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }

        // The gateway has stopped, which flushed its exporter.
        var forwarded = A1.Received.Single(r => r.Path == "/deposits?name=traced");
        var traceParent = forwarded.Headers["traceparent"].Split('-');
        Assert.Equal(callerTrace.ToHexString(), traceParent[1]);
        Assert.NotEqual(callerSpan.ToHexString(), traceParent[2]);
        Assert.True(_collector.Received(Convert.FromHexString(callerTrace.ToHexString())), "no export holds the caller's trace id");
        Assert.True(_collector.Received(Convert.FromHexString(callerSpan.ToHexString())), "no exported span names the caller's span as its parent");
        Assert.True(_collector.Received(Convert.FromHexString(traceParent[2])), "the span the instance was given as parent was never exported");
    }

    [Fact]
    public async Task A_request_without_trace_context_starts_a_new_trace_at_the_gateway()
    {
        // With its request logging on, ASP.NET Core starts an unrecorded activity for every request; the proxy span
        // must never hang off one: a listener to this source alone must see a root span.
        var stopped = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        var gatewaySource = global::Gateway.Observability.GatewayTelemetry.Source;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source == gatewaySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var path = $"/untraced/{Guid.NewGuid():N}";
        var gateway = await RunningGateway.StartAsync(Settings);
        await using (gateway)
        {
            await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
            using var client = CallerOf(gateway);
            using var response = await client.GetAsync(path);
            response.EnsureSuccessStatusCode();
        }

        var span = stopped.Single(activity => (string?)activity.GetTagItem("url.path") == path);
        var traceParent = (A1.Received.Concat(B1.Received)).Single(r => r.Path == path).Headers["traceparent"].Split('-');
        Assert.Equal(default, span.ParentSpanId);
        Assert.Equal(span.TraceId.ToHexString(), traceParent[1]);
    }

    [Fact]
    public async Task At_ratio_zero_a_request_without_trace_context_is_not_traced_but_a_callers_sampled_trace_is_followed()
    {
        Settings.Values["Gateway:Observability:TraceSampleRatio"] = "0";
        var callerTrace = ActivityTraceId.CreateRandom();
        var unsampledPath = $"/unsampled/{Guid.NewGuid():N}";
        var gateway = await RunningGateway.StartAsync(Settings);
        await using (gateway)
        {
            await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
            using var client = CallerOf(gateway);
            using (var response = await client.GetAsync(unsampledPath))
            {
                response.EnsureSuccessStatusCode();
            }

            using var followed = new HttpRequestMessage(HttpMethod.Get, "/deposits/followed");
            followed.Headers.Add("traceparent", $"00-{callerTrace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using (var response = await client.SendAsync(followed))
            {
                response.EnsureSuccessStatusCode();
            }
        }

        Assert.True(_collector.Received(Convert.FromHexString(callerTrace.ToHexString())), "the caller's sampled trace was not followed at ratio 0");
        Assert.False(_collector.Received(System.Text.Encoding.UTF8.GetBytes(unsampledPath)), "a request without trace context was exported at ratio 0");
        var forwarded = A1.Received.Concat(B1.Received).Single(r => r.Path == unsampledPath);
        Assert.False(
            forwarded.Headers.TryGetValue("traceparent", out var traceParent) && traceParent.EndsWith("-01", StringComparison.Ordinal),
            $"the instance was told to sample a trace nobody exports: {traceParent}");
    }

    [Fact]
    public async Task The_request_span_carries_the_site_instance_and_retry_attributes()
    {
        var gateway = await RunningGateway.StartAsync(Settings);
        await using (gateway)
        {
            await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
            using var client = CallerOf(gateway);
            using var response = await client.GetAsync("/deposits/x");
            response.EnsureSuccessStatusCode();
        }

        foreach (var expected in new[] { "gateway.site", "gateway.instance", "gateway.retry", "gateway", "proxy GET" })
        {
            Assert.True(_collector.Received(System.Text.Encoding.UTF8.GetBytes(expected)), $"no export mentions '{expected}'");
        }
    }

    [Fact]
    public async Task Health_probes_and_the_forwarders_client_start_no_spans_but_the_forwarded_call_is_traced()
    {
        var gateway = await RunningGateway.StartAsync(Settings);
        await using (gateway)
        {
            await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
            // Probes that certainly ran while the exporter was up: two failed ones take a1 out, a passing one brings it back.
            A1.Healthy = false;
            await gateway.WaitForHealthAsync("a1", "Unhealthy", TimeSpan.FromSeconds(5));
            A1.Healthy = true;
            await gateway.WaitForHealthAsync("a1", "Healthy", TimeSpan.FromSeconds(5));
            using var client = CallerOf(gateway);
            using var response = await client.GetAsync("/deposits/probe-check");
            response.EnsureSuccessStatusCode();
        }

        Assert.True(_collector.Received("/deposits/probe-check"u8), "the request's span (url.path) was not exported");
        Assert.False(_collector.Received("/healthz"u8), "an active health probe was exported as a trace");
        Assert.False(_collector.Received("System.Net.Http"u8), "an HTTP client span was exported");
    }

    [Fact]
    public async Task A_retried_read_is_marked_on_its_span()
    {
        var gateway = await RunningGateway.StartAsync(Settings);
        var trace = ActivityTraceId.CreateRandom();
        await using (gateway)
        {
            await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
            A1.DropRequests = true;
            B1.DropRequests = true;
            using var request = new HttpRequestMessage(HttpMethod.Get, "/deposits/x");
            request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var client = CallerOf(gateway);
            using var response = await client.SendAsync(request);
            Assert.Equal(2, A1.Received.Count + B1.Received.Count);
        }

        var exports = _collector.TraceExports.Where(e => e.AsSpan().IndexOf(Convert.FromHexString(trace.ToHexString())) >= 0).ToList();
        Assert.NotEmpty(exports);
        Assert.True(exports.Any(ContainsRetryTrue), "the request span does not say gateway.retry = true");
    }

    /// <summary>
    /// A client sending only the trace context a test sets. Trace listeners are process-wide, so the gateway's
    /// exporter would otherwise give this in-process client a span of its own (unsampled: a root client span) and
    /// its traceparent would tell the gateway not to record the request.
    /// </summary>
    private static HttpClient CallerOf(RunningGateway gateway) =>
        new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = gateway.Public.BaseAddress };

    /// <summary>The attribute as OTLP protobuf encodes it: key "gateway.retry", then a bool value of true.</summary>
    private static bool ContainsRetryTrue(byte[] export)
    {
        var key = System.Text.Encoding.UTF8.GetBytes("gateway.retry");
        for (var at = export.AsSpan().IndexOf(key); at >= 0;)
        {
            var valueStart = at + key.Length;
            // KeyValue.value (field 2, length-delimited) holding AnyValue.bool_value (field 2, varint) = 1.
            if (export.AsSpan(valueStart).StartsWith(new byte[] { 0x12, 0x02, 0x10, 0x01 }))
            {
                return true;
            }

            var next = export.AsSpan(valueStart).IndexOf(key);
            at = next < 0 ? -1 : valueStart + next;
        }

        return false;
    }
}
