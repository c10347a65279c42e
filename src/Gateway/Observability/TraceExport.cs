using Gateway.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Observability;

/// <summary>
/// Exports the gateway's own spans over OTLP when <c>Gateway:Observability:OtlpEndpoint</c> is set: proxied requests
/// (the parents the instances see), failovers and their steps. A hosted service of the public host, so the exporter
/// lives exactly as long as the host; stopping flushes what is still buffered.
/// </summary>
public sealed partial class TraceExport(IOptions<GatewayOptions> options, ILogger<TraceExport> logger) : IHostedService, IDisposable
{
    public const string ServiceName = "gateway";

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
            .AddSource(GatewayTelemetry.Source.Name)
            // Roots are recorded: a request span exists only once ProxySpan.Start chose it (in the ratio configured;
            // exporting every one costs throughput, bench/RESULTS.md), and failovers are always traced. A caller's
            // traceparent decides for its request, sampled or not. Health probes start no span (ForwarderClientFactory).
            .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
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
    /// The configured endpoint is the collector's base address, as in OTEL_EXPORTER_OTLP_ENDPOINT; over HTTP the
    /// traces go to its /v1/traces (the exporter appends nothing to an endpoint set in code).
    /// </summary>
    public static Uri ExportEndpoint(ObservabilityOptions observability) =>
        observability.OtlpProtocol == OtlpProtocol.Grpc
            ? new Uri(observability.OtlpEndpoint)
            : new Uri(observability.OtlpEndpoint.TrimEnd('/') + "/v1/traces");
}
