using System.Collections.Concurrent;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Observability;

/// <summary>
/// A stand-in OpenTelemetry collector on loopback: accepts OTLP/HTTP protobuf exports at /v1/traces and keeps
/// their bodies. The tests look for raw trace and span ids in them, which protobuf stores as plain bytes.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(int port, WebApplication app)
    {
        Url = $"http://127.0.0.1:{port}";
        _app = app;
    }

    public string Url { get; }

    public ConcurrentQueue<byte[]> TraceExports { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        RealParts.Starting("the OTLP receiver (a real listener)");
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(port, app);
        app.MapPost("/v1/traces", receiver.ReceiveAsync);
        await app.StartAsync();
        return receiver;
    }

    public bool Received(ReadOnlySpan<byte> bytes)
    {
        foreach (var export in TraceExports)
        {
            if (export.AsSpan().IndexOf(bytes) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<IResult> ReceiveAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        TraceExports.Enqueue(body.ToArray());
        // An empty ExportTraceServiceResponse: full success.
        return Results.Bytes([], "application/x-protobuf");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
