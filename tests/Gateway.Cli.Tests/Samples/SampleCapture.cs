using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Cli.Tests.Support;
using Gateway.Testing;

namespace Gateway.Cli.Tests.Samples;

/// <summary>
/// How the JSON samples in this folder were taken: from the real gateway (and a real PostgreSQL pair) started
/// in-process. Runs only when GATEWAYCTL_CAPTURE_SAMPLES names the folder to write to, e.g.
/// <c>GATEWAYCTL_CAPTURE_SAMPLES=$PWD/tests/Gateway.Cli.Tests/Samples dotnet test tests/Gateway.Cli.Tests --filter SampleCapture</c>.
/// switchover-refused-report.json is a 409 the gateway gave once to a switchover back to A whose filestore target was
/// not a complete replica; that outcome depends on replication timing, so it is kept as it came rather than retaken.
/// Samples whose name starts with "future-" add by hand what the gateway does not serve yet (hook output).
/// The backup samples (backup-*.json, error-unknown-backup.json) come from the backup tests of Gateway.Tests, which
/// need a pair with WAL archiving, pgBackRest and restic: <c>GATEWAYCTL_CAPTURE_SAMPLES=$PWD/tests/Gateway.Cli.Tests/Samples
/// dotnet test tests/Gateway.Tests --filter FullyQualifiedName~Gateway.Tests.Backup</c>.
/// </summary>
[Integration]
public sealed class SampleCapture
{
    [Fact]
    public async Task CaptureFromRealGateway()
    {
        if (Environment.GetEnvironmentVariable("GATEWAYCTL_CAPTURE_SAMPLES") is not { Length: > 0 } folder)
        {
            return;
        }

        await using (var withoutDatabase = await LiveGateway.StartAsync())
        {
            await SaveAsync(folder, "status-database-down.json", await withoutDatabase.Admin.GetAsync("/admin/status"));
            await SaveAsync(folder, "error-unknown-site.json", await withoutDatabase.Admin.PostAsJsonAsync("/admin/database/promote", new { to = "C" }));
        }

        var postgres = new PostgresPair();
        await postgres.InitializeAsync();
        try
        {
            await using var gateway = await LiveGateway.StartAsync(postgres);
            await SaveAsync(folder, "status-both-nodes.json", await gateway.Admin.GetAsync("/admin/status"));
            // The primary cannot rejoin: a 409 whose body is a report with succeeded=false.
            await SaveAsync(folder, "rejoin-refused-report.json", await gateway.Admin.PostAsJsonAsync("/admin/database/rejoin", new { site = "A", method = "Auto" }));
            await SaveAsync(folder, "promote-report.json", await gateway.Admin.PostAsJsonAsync("/admin/database/promote", new { to = "B" }));
            await SaveAsync(folder, "status-after-promote.json", await gateway.Admin.GetAsync("/admin/status"));
            await SaveAsync(folder, "rejoin-report.json", await gateway.Admin.PostAsJsonAsync("/admin/database/rejoin", new { site = "A", method = "Auto" }));
            await SaveAsync(folder, "database-history.json", await gateway.Admin.GetAsync("/admin/database/history"));

        }
        finally
        {
            await postgres.DisposeAsync();
        }

        await CaptureSwitchoverAsync(folder);
    }

    /// <summary>A planned switchover A -> B from a fresh start, with the status caught while it runs.</summary>
    private static async Task CaptureSwitchoverAsync(string folder)
    {
        var postgres = new PostgresPair();
        await postgres.InitializeAsync();
        try
        {
            await using var gateway = await LiveGateway.StartAsync(postgres);
            var switchover = gateway.Admin.PostAsJsonAsync("/admin/switchover", new { to = "B" });
            while (!switchover.IsCompleted)
            {
                var status = await gateway.Admin.GetStringAsync("/admin/status");
                if (JsonNode.Parse(status)!["currentOperation"]?["steps"]?.AsArray().Count >= 2)
                {
                    await File.WriteAllTextAsync(Path.Combine(folder, "status-during-switchover.json"), Indented(status));
                    break;
                }

                await Task.Delay(10);
            }

            await SaveAsync(folder, "switchover-report.json", await switchover);
            await SaveAsync(folder, "history.json", await gateway.Admin.GetAsync("/admin/history"));
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    private static async Task SaveAsync(string folder, string name, HttpResponseMessage response) =>
        await File.WriteAllTextAsync(Path.Combine(folder, name), Indented(await response.Content.ReadAsStringAsync()));

    private static string Indented(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
