using System.Diagnostics;
using Gateway.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Observability;

/// <summary>
/// Exports spans over OTLP when <c>Gateway:Observability:OtlpEndpoint</c> is set: the gateway's own spans and the
/// forwarder's HTTP client spans (whose ids are the parents the instances see). A hosted service of the public host,
/// so the exporter lives exactly as long as the host; stopping flushes what is still buffered.
/// </summary>
public sealed partial class TraceExport(IOptions<GatewayOptions> options, ILogger<TraceExport> logger) : IHostedService, IDisposable
{
    public const string ServiceName = "gateway";

    /// <summary>The source .NET's HTTP client starts its request spans on.</summary>
    private const string HttpClientSource = "System.Net.Http";

    private TracerProvider? _provider;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var observability = options.Value.Observability;
        if (observability.OtlpEndpoint.Length == 0)
        {
            return Task.CompletedTask;
        }

        var endpoint = ExportEndpoint(observability);
        _provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(ServiceName))
            .AddSource(GatewayTelemetry.Source.Name, HttpClientSource)
            .SetSampler(new ParentBasedSampler(new GatewayWorkSampler()))
            .AddOtlpExporter(otlp =>
            {
                otlp.Endpoint = endpoint;
                otlp.Protocol = observability.OtlpProtocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
            })
            .Build();
        Log.Exporting(logger, endpoint, observability.OtlpProtocol);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_provider is not null)
        {
            Dispose();
            Log.Stopped(logger);
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _provider?.Dispose();
        _provider = null;
    }

    /// <summary>
    /// Starts traces only for the gateway's own work. An HTTP client call with no parent is an active health probe,
    /// every interval for every instance: noise that would bury the requests, never traced. A proxied request without
    /// a caller's trace context reaches the sampler only once <see cref="ProxySpan.Start"/> has chosen it, in the ratio
    /// configured (exporting every one costs throughput: bench/RESULTS.md), so it is recorded; failovers and their
    /// steps always are. A caller's sampled traceparent is always followed (ParentBased, outside).
    /// </summary>
    public sealed class GatewayWorkSampler : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) => samplingParameters.Kind switch
        {
            ActivityKind.Client => new(SamplingDecision.Drop),
            _ => new(SamplingDecision.RecordAndSample),
        };
    }

    /// <summary>
    /// The configured endpoint is the collector's base address, as in OTEL_EXPORTER_OTLP_ENDPOINT; over HTTP the
    /// traces go to its /v1/traces (the exporter appends nothing to an endpoint set in code).
    /// </summary>
    public static Uri ExportEndpoint(ObservabilityOptions observability) =>
        observability.OtlpProtocol == OtlpProtocol.Grpc
            ? new Uri(observability.OtlpEndpoint)
            : new Uri(observability.OtlpEndpoint.TrimEnd('/') + "/v1/traces");
}
