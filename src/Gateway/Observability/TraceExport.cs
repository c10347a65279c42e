using Gateway.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Observability;

/// <summary>
/// Exports the gateway's own spans over OTLP when <c>Gateway:Observability:OtlpEndpoint</c> is set: proxied requests
/// (the parents the instances see), failovers and their steps. The tracer provider belongs to the public host
/// (OpenTelemetry.Extensions.Hosting builds it when the host starts and disposes it with the host); this hosted
/// service only says where spans go and flushes what is still buffered when the host stops.
/// </summary>
public sealed partial class TraceExport(TracerProvider provider, IOptions<GatewayOptions> options, ILogger<TraceExport> logger) : IHostedService
{
    public const string ServiceName = "gateway";

    /// <summary>A collector that does not answer must not hold the shutdown longer than the exporter's own timeout would.</summary>
    private const int FlushTimeoutMilliseconds = 10_000;

    /// <summary>Registers the host's tracer provider and this service, or nothing when no endpoint is configured.</summary>
    public static void AddTo(IServiceCollection services, ObservabilityOptions observability)
    {
        if (observability.OtlpEndpoint.Length == 0)
        {
            return;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(GatewayTelemetry.Source.Name)
                // Roots are recorded: a request span exists only once ProxySpan.Start chose it (in the ratio
                // configured; exporting every one costs throughput, bench/RESULTS.md), and failovers are always
                // traced. A caller's traceparent decides for its request, sampled or not. Health probes start no
                // span (ForwarderClientFactory).
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                .AddOtlpExporter(otlp =>
                {
                    otlp.Endpoint = ExportEndpoint(observability);
                    otlp.Protocol = observability.OtlpProtocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                }));
        services.AddHostedService<TraceExport>();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var observability = options.Value.Observability;
        Log.Exporting(logger, ExportEndpoint(observability), observability.OtlpProtocol);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The host disposes the provider (which flushes too) only after every host has stopped; flushing here sends
    /// the spans of the last requests while the collector may still be told the gateway is stopping.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        provider.ForceFlush(FlushTimeoutMilliseconds);
        Log.Stopped(logger);
        return Task.CompletedTask;
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
