using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

/// <summary>What a backend saw of one request.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>
    /// The body, once the backend has read it to its end; null while it is being read, or when the request was cut
    /// short (the request is recorded on arrival, so even one whose body never completes is on the list).
    /// </summary>
    public byte[]? Body { get; internal set; }
}

/// <summary>
/// A real HTTP server on loopback standing in for a service instance where a test needs to see exactly what the
/// gateway forwarded, or make the instance misbehave: it records every request, answers with X-Served-By, and can
/// be told to fail its health probe, drop connections before answering, or answer every request with an error status.
/// </summary>
public sealed class EchoBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoBackend(string id, int port, WebApplication app)
    {
        Id = id;
        Port = port;
        _app = app;
    }

    public string Id { get; }
    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>When false, /healthz answers 503.</summary>
    public volatile bool Healthy = true;

    /// <summary>When true, every request other than /healthz has its connection aborted before any answer.</summary>
    public volatile bool DropRequests;

    /// <summary>When not 0, every request other than /healthz is answered with this status (and the usual body); /healthz stays 200.</summary>
    public volatile int AnswerStatus;

    /// <summary>When set, every request other than /healthz waits for it before answering (a request kept in flight).</summary>
    public volatile Task? HoldRequests;

    public static async Task<EchoBackend> StartAsync(string id)
    {
        RealParts.Starting($"echo backend {id} (a real listener)");
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new EchoBackend(id, port, app);
        app.Run(backend.HandleAsync);
        await app.StartAsync();
        return backend;
    }

    private async Task HandleAsync(HttpContext context)
    {
        context.Response.Headers["X-Served-By"] = Id;
        if (context.Request.Path == "/healthz")
        {
            context.Response.StatusCode = Healthy ? 200 : 503;
            return;
        }

        var received = new ReceivedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        Received.Enqueue(received);
        if (DropRequests)
        {
            context.Abort();
            return;
        }

        if (HoldRequests is { } hold)
        {
            await hold;
        }

        received.Body = await ReadBodyAsync(context);
        if (AnswerStatus != 0)
        {
            context.Response.StatusCode = AnswerStatus;
        }

        await context.Response.WriteAsync($"{Id} {context.Request.Method} {context.Request.Path}");
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            return body.ToArray();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The sender gave up mid-body: the request stays on the list, without a body.
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
