using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Cli.Tests.Support;

/// <summary>A request the stand-in received.</summary>
public sealed record ReceivedCall(string Method, string Path, string? ContentType, string Body);

/// <summary>
/// An admin API whose answers a test scripts, over real HTTP, for what the real gateway cannot be made to show on
/// cue or does not serve yet: endpoints still being built (failback), an operation whose steps
/// appear one every <see cref="StepEvery"/> in the status's <c>currentOperation</c> (the newest without an outcome,
/// as a running step), an answer slower than the CLI's timeout, a gateway too old to have an endpoint. The shapes
/// are the gateway's own (real reports from the Samples folder).
/// </summary>
public sealed class ScriptedAdminApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, string Body, TimeSpan Delay)> _answers = new();
    private volatile Stopwatch? _running;
    private volatile JsonArray? _runningSteps;

    private ScriptedAdminApi(WebApplication app, int port)
    {
        _app = app;
        Url = $"http://127.0.0.1:{port}";
    }

    public const string Token = "scripted-api-token";
    public static readonly TimeSpan StepEvery = TimeSpan.FromMilliseconds(150);

    public string Url { get; }
    public ConcurrentQueue<ReceivedCall> Calls { get; } = new();

    /// <summary>False: the status has no currentOperation at all, as a gateway older than the coordinator's.</summary>
    public bool StatusHasCurrentOperation { get; set; } = true;

    public CliRunner Cli => CliRunner.For(Url, Token);

    public static async Task<ScriptedAdminApi> StartAsync()
    {
        RealParts.Starting("the scripted admin API (a real listener)");
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var api = new ScriptedAdminApi(app, port);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        return api;
    }

    /// <summary>What <paramref name="method"/> <paramref name="path"/> answers, after <paramref name="delay"/>; unset paths answer 404 with no body.</summary>
    public void Answer(string method, string path, int status, string body, TimeSpan delay = default) => _answers[$"{method} {path}"] = (status, body, delay);

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync();
        Calls.Enqueue(new(request.Method, request.Path, request.ContentType, body));
        if (request.Headers.Authorization != $"Bearer {Token}")
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await http.Response.WriteAsJsonAsync(new { error = "missing or wrong admin token (Authorization: Bearer <token>)" });
            return;
        }

        if (request.Method == "GET" && request.Path == "/admin/status")
        {
            await WriteJsonAsync(http, 200, Status().ToJsonString());
            return;
        }

        if (!_answers.TryGetValue($"{request.Method} {request.Path}", out var answer))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (request.Method == "POST")
        {
            var report = JsonNode.Parse(answer.Body)!;
            _runningSteps = report["steps"] as JsonArray ?? [];
            _running = Stopwatch.StartNew();
        }

        await Task.Delay(answer.Delay, http.RequestAborted);
        _running = null;
        await WriteJsonAsync(http, answer.Status, answer.Body);
    }

    private JsonObject Status()
    {
        var status = JsonNode.Parse(Sample.Json("status-both-nodes.json"))!.AsObject();
        if (StatusHasCurrentOperation)
        {
            status["currentOperation"] = _running is { } running && _runningSteps is { } steps ? RevealedSoFar(running.Elapsed, steps) : null;
        }

        return status;
    }

    private static JsonObject RevealedSoFar(TimeSpan elapsed, JsonArray steps)
    {
        var visible = Math.Min(steps.Count, (int)(elapsed / StepEvery) + 1);
        var revealed = new JsonArray();
        for (var i = 0; i < visible; i++)
        {
            var step = steps[i]!.DeepClone().AsObject();
            if (i == visible - 1 && visible < steps.Count)
            {
                step["duration"] = null;
                step["outcome"] = null;
            }

            revealed.Add(step);
        }

        return new JsonObject { ["steps"] = revealed };
    }

    private static async Task WriteJsonAsync(HttpContext http, int status, string json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
