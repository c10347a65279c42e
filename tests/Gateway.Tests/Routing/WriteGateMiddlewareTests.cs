using System.Text.Json;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Routing;

/// <summary>The write gate in the request pipeline, on an in-memory request and a fake clock.</summary>
public sealed class WriteGateMiddlewareTests
{
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly WriteGate _gate;
    private readonly WriteGateMiddleware _middleware;
    private int _reachedNext;

    public WriteGateMiddlewareTests()
    {
        _gate = new WriteGate(maxHeld: 10, MaxHold, _time);
        _middleware = new WriteGateMiddleware(
            _ =>
            {
                Interlocked.Increment(ref _reachedNext);
                return Task.CompletedTask;
            },
            _gate,
            NullLogger<WriteGateMiddleware>.Instance);
    }

    private static DefaultHttpContext Request(string method) =>
        new() { Request = { Method = method, Path = "/deposits" }, Response = { Body = new MemoryStream() } };

    [Fact]
    public async Task A_write_held_past_the_hold_time_is_answered_503_with_retry_after_and_never_forwarded()
    {
        _gate.Close();
        var context = Request("POST");
        var handling = _middleware.InvokeAsync(context);

        _time.Advance(MaxHold);
        await handling.WaitAsync(Patience);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        context.Response.Body.Position = 0;
        var body = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Contains("hold bound", body.RootElement.GetProperty("reason").GetString());
        Assert.Equal(0, _reachedNext);
        Assert.Equal(0, _gate.InFlight);
    }

    [Fact]
    public async Task A_held_write_released_in_time_is_forwarded_and_counted_out_when_it_ends()
    {
        _gate.Close();
        var context = Request("PUT");
        var handling = _middleware.InvokeAsync(context);

        Assert.False(handling.IsCompleted);

        _gate.Open();
        await handling.WaitAsync(Patience);

        Assert.Equal(1, _reachedNext);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal(0, _gate.InFlight);
    }

    [Fact]
    public async Task A_read_passes_a_closed_gate_without_waiting_or_being_counted()
    {
        _gate.Close();

        await _middleware.InvokeAsync(Request("GET")).WaitAsync(Patience);

        Assert.Equal(1, _reachedNext);
        Assert.Equal((0, 0), (_gate.Held, _gate.InFlight));
    }
}
