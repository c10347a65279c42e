using Gateway.Cli.Tests.Support;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Cli.Tests.Integration;

/// <summary>
/// A cluster follower answers a state-changing call 307 with the leader's admin URL: gatewayctl sends the same call,
/// with its token and its body, to the leader (HttpClient's own redirect handling would drop the token).
/// </summary>
[Integration]
public sealed class LeaderRedirectTests : IAsyncLifetime
{
    private ScriptedAdminApi _leader = null!;
    private WebApplication _follower = null!;
    private string _followerUrl = "";
    private int _followerCalls;

    public async Task InitializeAsync()
    {
        _leader = await ScriptedAdminApi.StartAsync();
        RealParts.Starting("a stand-in follower that redirects to the leader (a real listener)");
        var port = FreePort.Next();
        _followerUrl = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(_followerUrl);
        _follower = builder.Build();
        _follower.Run(http =>
        {
            Interlocked.Increment(ref _followerCalls);
            http.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            http.Response.Headers.Location = _leader.Url + http.Request.Path;
            return Task.CompletedTask;
        });
        await _follower.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _follower.DisposeAsync();
        await _leader.DisposeAsync();
    }

    [Fact]
    public async Task PauseSentToAFollowerIsCarriedOutByTheLeaderWithTheSameTokenAndBody()
    {
        _leader.Answer("POST", "/admin/pause", 200, """{"reason":"maintenance","by":"ops","since":"2026-12-07T10:00:00+00:00","until":"2026-12-07T11:00:00+00:00"}""");

        var result = await CliRunner.For(_followerUrl, ScriptedAdminApi.Token).RunAsync("pause", "--reason", "maintenance", "--for", "01:00:00");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(1, _followerCalls);
        // The scripted leader answers 401 to a call without its token: the call it recorded arrived with it.
        var call = Assert.Single(_leader.Calls, c => c.Method == "POST");
        Assert.Equal("/admin/pause", call.Path);
        Assert.Contains("\"reason\":\"maintenance\"", call.Body);
        Assert.Contains("\"for\":\"01:00:00\"", call.Body);
    }
}
