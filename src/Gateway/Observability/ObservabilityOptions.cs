using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

public enum OtlpProtocol
{
    /// <summary>OTLP over HTTP with protobuf bodies (usually port 4318); traces are posted to the endpoint's /v1/traces.</summary>
    HttpProtobuf,

    /// <summary>OTLP over gRPC (usually port 4317).</summary>
    Grpc,
}

/// <summary>Traces and per-request telemetry: the <c>Gateway:Observability</c> section.</summary>
public sealed class ObservabilityOptions
{
    /// <summary>Base URL of an OpenTelemetry collector (http://127.0.0.1:4318); traces are exported only when it is set. Metrics are always at the admin listener's /metrics.</summary>
    [HttpUrl(Optional = true)]
    public string OtlpEndpoint { get; set; } = "";

    [Defined]
    public OtlpProtocol OtlpProtocol { get; set; } = OtlpProtocol.HttpProtobuf;

    /// <summary>
    /// Per-request metrics and spans of the public listener (gateway_requests_total, gateway_request_duration_seconds, the "proxy" span). On by default;
    /// off removes their middleware from the pipeline, to measure what they cost (bench/proxy) or to shed that cost.
    /// Gauges, database, filestore and switch metrics stay.
    /// </summary>
    public bool RequestTelemetry { get; set; } = true;

    /// <summary>
    /// Share of proxied requests without a sampled caller trace whose spans are exported (0 to 1). Exporting every
    /// request costs about 15 % of the proxy's throughput (bench/RESULTS.md); a caller's sampled traceparent is always
    /// followed, and failovers are always traced.
    /// </summary>
    [Number("is not a share between 0 and 1", From = 0, To = 1)]
    public double TraceSampleRatio { get; set; } = 0.1;
}

/// <summary>The per-field rules of <see cref="ObservabilityOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class ObservabilityOptionsValidator : IValidateOptions<ObservabilityOptions>
{
}
