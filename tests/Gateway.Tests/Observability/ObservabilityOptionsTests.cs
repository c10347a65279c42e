using Gateway.Configuration;
using Gateway.Observability;
using Gateway.Tests.Support;

namespace Gateway.Tests.Observability;

public sealed class ObservabilityOptionsTests
{
    private const string Endpoint = "Gateway:Observability:OtlpEndpoint";

    [Fact]
    public void Trace_export_is_off_by_default()
    {
        using var settings = GatewaySettings.Placeholder();

        Assert.Equal("", settings.Load().Observability.OtlpEndpoint);
    }

    [Theory]
    [InlineData("127.0.0.1:4318")]
    [InlineData("ftp://collector:4318")]
    [InlineData("http://collector:4318/?token=x")]
    public void An_otlp_endpoint_that_is_not_an_http_url_is_refused_naming_the_key(string value)
    {
        using var settings = GatewaySettings.Placeholder();
        settings.Values[Endpoint] = value;

        var error = Assert.Single(settings.Errors());

        Assert.Equal(Endpoint, error.Key);
    }

    [Fact]
    public void An_unknown_protocol_is_refused_naming_the_key()
    {
        using var settings = GatewaySettings.Placeholder();
        settings.Values["Gateway:Observability:OtlpProtocol"] = "Carrier-Pigeon";

        Assert.Equal("Gateway:Observability:OtlpProtocol", Assert.Single(settings.Errors()).Key);
    }

    [Theory]
    [InlineData("http://collector:4318", OtlpProtocol.HttpProtobuf, "http://collector:4318/v1/traces")]
    [InlineData("http://collector:4318/", OtlpProtocol.HttpProtobuf, "http://collector:4318/v1/traces")]
    [InlineData("http://collector:4317", OtlpProtocol.Grpc, "http://collector:4317/")]
    public void Traces_go_to_the_collectors_traces_path_over_http_and_to_its_address_over_grpc(string endpoint, OtlpProtocol protocol, string exportedTo)
    {
        var options = new ObservabilityOptions { OtlpEndpoint = endpoint, OtlpProtocol = protocol };

        Assert.Equal(exportedTo, TraceExport.ExportEndpoint(options).ToString());
    }

    [Theory]
    [InlineData("-0.1")]
    [InlineData("1.5")]
    [InlineData("NaN")]
    public void A_trace_sample_ratio_outside_zero_to_one_is_refused_naming_the_key(string value)
    {
        using var settings = GatewaySettings.Placeholder();
        settings.Values["Gateway:Observability:TraceSampleRatio"] = value;

        Assert.Equal("Gateway:Observability:TraceSampleRatio", Assert.Single(settings.Errors()).Key);
    }

    [Fact]
    public void Requests_without_trace_context_start_traces_in_the_ratio_a_tenth_by_default()
    {
        var random = new Random(7);
        Assert.InRange(Enumerable.Range(0, 10_000).Count(_ => ProxySpan.StartsNewTrace(0.1, random)), 900, 1100);
        Assert.Equal(10_000, Enumerable.Range(0, 10_000).Count(_ => ProxySpan.StartsNewTrace(1, random)));
        Assert.Equal(0, Enumerable.Range(0, 10_000).Count(_ => ProxySpan.StartsNewTrace(0, random)));
        using var defaults = GatewaySettings.Placeholder();
        Assert.Equal(0.1, defaults.Load().Observability.TraceSampleRatio);
    }
}
