using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Integration;

/// <summary>
/// Operations over real HTTP against a scripted admin API: the exact request bodies, live progress from
/// currentOperation, reports, refusals, timeouts and their exit codes.
/// </summary>
[Integration]
public sealed class OperationCallTests : IAsyncLifetime
{
    private ScriptedAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await ScriptedAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private ReceivedCall PostTo(string path) => _api.Calls.Single(call => call.Method == "POST" && call.Path == path);

    [Fact]
    public async Task SwitchoverSendsTheTargetAndPrintsEachStepAsItEndsThenTheReport()
    {
        var report = Sample.Report("switchover-report.json");
        _api.Answer("POST", "/admin/switchover", 200, Sample.Json("switchover-report.json"), delay: TimeSpan.FromSeconds(2));

        var result = await _api.Cli.RunAsync("switchover", "--to", "B");

        Assert.True(result.ExitCode == 0, result.ToString());
        var call = PostTo("/admin/switchover");
        Assert.Equal("""{"to":"B"}""", call.Body);
        Assert.StartsWith("application/json", call.ContentType);
        var firstStart = report.Steps![0].StartedAt!.Value;
        var expectedProgress = string.Concat(report.Steps.Select(step =>
            $"  [+{(step.StartedAt!.Value - firstStart).TotalSeconds:0.00} s] {step.Step}: {step.Outcome}\n"));
        var progress = result.Stdout[..result.Stdout.IndexOf("switchover to B: succeeded", StringComparison.Ordinal)];
        Assert.Equal(expectedProgress, progress.ReplaceLineEndings("\n"));
        Assert.Contains($"\n  {report.Summary}\n", result.Stdout.ReplaceLineEndings("\n"));
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task WithJsonOnlyTheAnswerIsPrintedUnchanged()
    {
        var report = Sample.Json("switchover-report.json");
        _api.Answer("POST", "/admin/switchover", 200, report, delay: TimeSpan.FromMilliseconds(700));

        var result = await _api.Cli.RunAsync("switchover", "--to", "B", "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(report.TrimEnd() + "\n", result.Stdout.ReplaceLineEndings("\n"));
        Assert.Equal("Switchover", JsonNode.Parse(result.Stdout)!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task AForcedFailoverRefusedWhileAnotherRunsExits1WithTheGatewaysReason()
    {
        _api.Answer("POST", "/admin/failover", 409, """{"error":"a switchover to B is already running (epoch 3)"}""");

        var result = await _api.Cli.RunAsync("failover", "--to", "B", "--force");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal("""{"to":"B","force":true}""", PostTo("/admin/failover").Body);
        Assert.Equal("gatewayctl: failover to B (forced) refused (HTTP 409 Conflict): a switchover to B is already running (epoch 3)\n", result.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task AFailedOperationPrintsItsReportAndExits1WithItsSummary()
    {
        _api.Answer("POST", "/admin/failback", 409, """
            {"epoch": 5, "kind": "Failback", "from": "B", "to": "A", "succeeded": false,
             "summary": "failback refused: A's database is not a streaming standby of B (rejoin it first)",
             "steps": [], "database": null, "unreplicatedFiles": [], "startedAt": "2026-11-22T05:00:01+00:00", "total": "00:00:00.003"}
            """);

        var result = await _api.Cli.RunAsync("failback");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal("{}", PostTo("/admin/failback").Body);
        Assert.StartsWith("failback: FAILED\n  failback refused: A's database is not a streaming standby of B (rejoin it first)\n", result.Stdout.ReplaceLineEndings("\n"));
        Assert.Equal("gatewayctl: failback failed: failback refused: A's database is not a streaming standby of B (rejoin it first)\n", result.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task AServerErrorIsExit1WithItsBodyAndNotMistakenForAReport()
    {
        _api.Answer("POST", "/admin/failback", 500, """{"title":"An error occurred","status":500}""");

        var result = await _api.Cli.RunAsync("failback");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal("""gatewayctl: failback failed (HTTP 500 Internal Server Error): {"title":"An error occurred","status":500}""" + "\n", result.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task DrainAndUndrainSendEitherTheSiteOrTheInstance()
    {
        var report = """{"kind":"Drain","succeeded":true,"summary":"site A drained: 0 requests in flight","steps":[]}""";
        _api.Answer("POST", "/admin/drain", 200, report);
        _api.Answer("POST", "/admin/undrain", 200, report.Replace("site A drained", "a1 routed again"));

        var drain = await _api.Cli.RunAsync("drain", "--site", "A");
        var undrain = await _api.Cli.RunAsync("undrain", "--instance", "a1");

        Assert.Equal((0, 0), (drain.ExitCode, undrain.ExitCode));
        Assert.Equal("""{"site":"A"}""", PostTo("/admin/drain").Body);
        Assert.Equal("""{"instance":"a1"}""", PostTo("/admin/undrain").Body);
        Assert.StartsWith("drain site A: succeeded\n  site A drained: 0 requests in flight\n", drain.Stdout.ReplaceLineEndings("\n"));
        Assert.StartsWith("undrain instance a1: succeeded\n", undrain.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task AGatewayWithoutTheEndpointIsExit1SayingItMayBeOlder()
    {
        var result = await _api.Cli.RunAsync("switchover", "--to", "B");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains($"the gateway at {_api.Url}/ has no POST /admin/switchover (HTTP 404 Not Found): it may be older than this gatewayctl", result.Stderr);
    }

    [Fact]
    public async Task NoAnswerWithinTheTimeoutIsExit1SayingTheOperationGoesOn()
    {
        _api.Answer("POST", "/admin/failover", 200, Sample.Json("switchover-report.json"), delay: TimeSpan.FromSeconds(3));

        var result = await _api.Cli.RunAsync("failover", "--to", "B", "--timeout", "400ms");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("gatewayctl: no answer to POST /admin/failover within 400 ms (--timeout); the operation goes on in the gateway", result.Stderr);
    }

    [Fact]
    public async Task WithoutCurrentOperationInTheStatusAWaitingLineShowsEveryFiveSeconds()
    {
        _api.StatusHasCurrentOperation = false;
        _api.Answer("POST", "/admin/database/rejoin", 200, Sample.Json("rejoin-report.json"), delay: TimeSpan.FromSeconds(6));

        var result = await _api.Cli.RunAsync("db", "rejoin", "--site", "A", "--method", "basebackup");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""{"site":"A","method":"BaseBackup"}""", PostTo("/admin/database/rejoin").Body);
        Assert.Matches(@"^  waiting\.\.\. [56] s\nrejoin A as a standby \(basebackup\): succeeded\n", result.Stdout.ReplaceLineEndings("\n"));
    }
}
