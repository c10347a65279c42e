using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Integration;

/// <summary>
/// gatewayctl backup ... over real HTTP against a scripted admin API answering with what the real gateway answered
/// (Samples/backup-*.json, taken by the backup tests of Gateway.Tests): bodies sent, progress, rendering, exit codes.
/// </summary>
[Integration]
public sealed class BackupCommandsTests : IAsyncLifetime
{
    private ScriptedAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await ScriptedAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private ReceivedCall PostTo(string path) => _api.Calls.Single(call => call.Method == "POST" && call.Path == path);

    [Fact]
    public async Task CreateShowsTheStepAndTheEnginesBytesRateAndEtaWhileItRunsThenTheBackup()
    {
        _api.Answer("GET", "/admin/backups", 200, Sample.Json("backup-list-running.json"));
        _api.Answer("POST", "/admin/backup", 200, Sample.Json("backup-record.json"), delay: TimeSpan.FromSeconds(3.2));

        var result = await _api.Cli.RunAsync("backup", "create");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("{}", PostTo("/admin/backup").Body);
        var stdout = result.Stdout.ReplaceLineEndings("\n");
        Assert.Matches(@"^  \[\+\d\.\d\d s\] back up the database with pgBackRest from the standby B\n", stdout);
        Assert.Matches(@"\n  \[\+\d\.\d\d s\] back up the database with pgBackRest from the standby B: 3\.0 MiB of 29\.6 MiB, 10 %, 596\.8 KiB/s, ETA 45\.57 s\n", stdout);
        Assert.Contains("backup 20261207T085944Z: succeeded\n  backup 20261207T085944Z succeeded: database 20261207-090000F, files 2ab4f97a, writes held 224 ms\n", stdout);
        Assert.Contains("\n  cut:           2026-12-07 09:00:07.286 +00:00, writes held 224.0 ms (drain 27.5, replica catch-up 37.0, snapshot 128.8); files from the replica SAN of B\n", stdout);
        Assert.Contains("\n  restore point: gateway-backup-20261207T085944Z at 0/60400D0 on A\n", stdout);
        Assert.Contains("\n  database:      pgBackRest 2.45, full set 20261207-090000F from site B: 29.6 MiB (3.6 MiB added to the repository)\n", stdout);
        Assert.Contains("\n  files:         restic 0.14.0, snapshot 2ab4f97a: 556 files, 1.1 MiB (1.3 MiB added)\n", stdout);
        Assert.Matches(@"\n  \+\d+\.\d\d s +hold writes \(at most 1000 ms\) for the cut +\d+ +writes held", stdout);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task AFailedBackupPrintsItsRecordAndExitsOneWithItsSummary()
    {
        _api.Answer("POST", "/admin/backup", 409, Sample.Json("backup-failed-full.json"));

        var result = await _api.Cli.RunAsync("backup", "create");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.StartsWith("backup 20261207T085905Z: failed\n", result.Stdout.ReplaceLineEndings("\n"));
        Assert.StartsWith("gatewayctl: backup failed: backup 20261207T085905Z failed at 'prepare pgBackRest and restic': the repository's file system is full: 0 bytes free",
            result.Stderr);
    }

    [Fact]
    public async Task ListIsATableOldestFirst()
    {
        _api.Answer("GET", "/admin/backups", 200, Sample.Json("backup-list.json"));

        var result = await _api.Cli.RunAsync("backup", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Matches("^ID +STATUS +CUT AT +HOLD MS +DATABASE +FILES +LAST DRILL +SUMMARY$", lines[0]);
        Assert.Equal(["20261207T085741Z", "20261207T085751Z", "20261207T085800Z"], lines[1..].Select(line => line.Split(' ')[0]));
        Assert.All(lines[1..], line => Assert.Matches(@"^\S+ +succeeded +2026-12-07 \S+ \+00:00 +\d+\.\d +\S+ \(\d+\.\d MiB\) +\d+ files \(\S+ \S+\) +- +backup \S+ succeeded", line));
    }

    [Fact]
    public async Task AnUnknownIdIsRefusedNamingIt()
    {
        _api.Answer("GET", "/admin/backups/nope", 404, Sample.Json("error-unknown-backup.json"));

        var result = await _api.Cli.RunAsync("backup", "show", "nope");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal("gatewayctl: backup nope refused (HTTP 404 Not Found): unknown backup id 'nope' (gatewayctl backup list shows the backups)\n", result.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task VerifyPrintsTheDrillAndItsVerdict()
    {
        _api.Answer("POST", "/admin/backups/20261207T085944Z/verify", 200, Sample.Json("backup-drill.json"));

        var result = await _api.Cli.RunAsync("backup", "verify", "20261207T085944Z");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stdout = result.Stdout.ReplaceLineEndings("\n");
        Assert.StartsWith("restore drill of 20261207T085944Z: passed\n  restore drill of 20261207T085944Z passed: recovered to 'gateway-backup-20261207T085944Z'; VerifyCommand passed: verify-deposits: 556 deposit(s)", stdout);
        Assert.Matches(@"\n  \+\d+\.\d\d s +start a throw-away PostgreSQL on the restored data directory +\d+ +on socket /tmp/gw-restore-", stdout);
    }

    [Fact]
    public async Task RestoreSendsAnAbsoluteDirectoryAndTheTargetAction()
    {
        _api.Answer("POST", "/admin/backups/20261207T085944Z/restore", 200, Sample.Json("backup-restore-report.json"));
        var cli = new CliRunner(new Dictionary<string, string> { [CliEnvironment.UrlVariable] = _api.Url, [CliEnvironment.TokenVariable] = ScriptedAdminApi.Token }, "/srv/ops");

        var result = await cli.RunAsync("backup", "restore", "20261207T085944Z", "--to", "restored", "--target-action", "pause");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""{"to":"/srv/ops/restored","targetAction":"Pause"}""", PostTo("/admin/backups/20261207T085944Z/restore").Body);
        Assert.StartsWith("restore 20261207T085944Z into /srv/ops/restored: succeeded\n  backup 20261207T085944Z restored into", result.Stdout.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("restore: give exactly one of --to or --site", "backup", "restore", "x")]
    [InlineData("restore: give exactly one of --to or --site", "backup", "restore", "x", "--to", "/d", "--site", "B")]
    [InlineData("restore: --target-action is for --to; a site is always rebuilt promoted", "backup", "restore", "x", "--site", "B", "--target-action", "pause")]
    [InlineData("Argument 'resume' not recognized. Must be one of:", "backup", "restore", "x", "--to", "/d", "--target-action", "resume")]
    [InlineData("Cannot parse argument 'none' for option '--keep-last'", "backup", "prune", "--keep-last", "none")]
    public async Task UsageErrorsSendNothing(string error, params string[] args)
    {
        var result = await _api.Cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(error, result.Stderr);
        Assert.Empty(_api.Calls);
    }

    [Fact]
    public async Task PruneSendsOnlyTheCountsGivenAndShowsWhatIsKeptAndWhy()
    {
        _api.Answer("POST", "/admin/backups/prune", 200, Sample.Json("backup-prune-dry-run.json"));

        var result = await _api.Cli.RunAsync("backup", "prune", "--keep-last", "1", "--keep-daily", "1", "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""{"keepLast":1,"keepDaily":1,"dryRun":true}""", PostTo("/admin/backups/prune").Body);
        var stdout = result.Stdout.ReplaceLineEndings("\n");
        Assert.Matches(@"^prune \(dry run\): succeeded\n  would keep \d+ backup\(s\), would remove \d+\n", stdout);
        Assert.Contains("last, daily", stdout);
    }
}
