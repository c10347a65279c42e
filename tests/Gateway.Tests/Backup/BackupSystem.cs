using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Backup;
using Gateway.Testing;
using Gateway.Tests.EndToEnd;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;

namespace Gateway.Tests.Backup;

/// <summary>
/// The two-site system with backups configured, the gateway a process of its own (so a test can kill it): a real
/// PostgreSQL pair with WAL archiving and Unix sockets (pgBackRest reaches local nodes only through them), SAN A
/// and B with the filestore link, one broker per site, real pgBackRest and restic. Each case starts from
/// <see cref="ResetAsync"/>: the pair back at its snapshot, empty SANs, state and a new repository.
/// </summary>
public sealed class BackupSystem : IAsyncLifetime
{
    private int _resets;

    public BackupSystem()
    {
        Settings = null!;
        Postgres = null!;
    }

    public PostgresPair Postgres { get; private set; }
    public GatewaySettings Settings { get; private set; }
    public List<BrokerProcess> Brokers { get; } = [];
    public GatewayProcess? Gateway { get; private set; }

    /// <summary>Where the PostgreSQL nodes' sockets are (the settings' root is opened to the postgres user for it, the repository and the drills).</summary>
    public string SocketDirectory => Path.Combine(Settings.Root, "sock");
    public string Repository { get; private set; } = "";
    public string ResticKeyFile => Path.Combine(Settings.Root, "restic-key");
    public string Scratch => Path.Combine(Settings.Root, "scratch");
    public static string VerifyScript => Path.Combine(RepositoryFiles.Root, "deploy", "backup", "verify-deposits.sh");

    public HttpClient Admin => Gateway!.Admin;

    /// <summary>The admin API for calls that run a backup: a benchmark's takes minutes, beyond the usual client's minute.</summary>
    private HttpClient BackupClient => _backupClient ??= NewBackupClient();

    private HttpClient NewBackupClient()
    {
        var client = new HttpClient { BaseAddress = Admin.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Settings.AdminToken);
        return client;
    }

    private HttpClient? _backupClient;
    public HttpClient Public => Gateway!.Public;

    public async Task InitializeAsync()
    {
        var (a1, b1) = (FreePort.Next(), FreePort.Next());
        // The settings' ports and directories are chosen before the pair exists; its ports are filled in below.
        Settings = new GatewaySettings([$"http://127.0.0.1:{a1}"], [$"http://127.0.0.1:{b1}"]);
        await ProcessRunner.RunAsync("chmod", ["755", Settings.Root]);
        Directory.CreateDirectory(SocketDirectory);
        await ProcessRunner.RunAsync("chown", ["postgres:postgres", SocketDirectory]);
        await File.WriteAllTextAsync(ResticKeyFile, Guid.NewGuid().ToString("N") + "\n");
        Postgres = new PostgresPair { ExtraSettings = $"archive_mode = on\nunix_socket_directories = '{SocketDirectory}'" };
        await Postgres.InitializeAsync();
        await Postgres.Primary.ExecuteAsync("CREATE DATABASE broker");
        Settings.Values["Gateway:Sites:0:Database:Port"] = Postgres.Primary.Port.ToString();
        Settings.Values["Gateway:Sites:1:Database:Port"] = Postgres.Standby.Port.ToString();

        // The brokers create their schema at start, through a gateway; the snapshot then keeps it for every case.
        Configure(_ => { });
        Gateway = StartGateway("setup");
        await Gateway.StatusAsync();
        var through = TwoSiteSystem.ThroughGateway(Settings.PgWritePort);
        Brokers.Add(new BrokerProcess("a1", a1, through, Settings.FilestoreLink));
        Brokers.Add(new BrokerProcess("b1", b1, through, Settings.FilestoreLink));
        await Task.WhenAll(Brokers.Select(broker => broker.StartAsync()));
        await StopGatewayAsync();
        await Postgres.SnapshotAsync();
    }

    /// <summary>Back to the start with a fresh repository and these settings on top of the backup defaults; the gateway started and every broker healthy.</summary>
    public async Task ResetAsync(Action<Dictionary<string, string?>>? configure = null)
    {
        await StopGatewayAsync();
        await Postgres.RestoreSnapshotAsync();
        foreach (var directory in new[] { Settings.SanA, Settings.SanB, Settings.StateDirectory, Scratch })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            Directory.CreateDirectory(directory);
        }

        File.Delete(Settings.FilestoreLink);
        File.CreateSymbolicLink(Settings.FilestoreLink, Settings.SanA);
        Configure(configure ?? (_ => { }));
        await StartAsync("case");
    }

    /// <summary>The backup defaults of these tests, a new repository, then the case's own settings.</summary>
    private void Configure(Action<Dictionary<string, string?>> configure)
    {
        Repository = Path.Combine(Settings.Root, $"repository-{++_resets}");
        foreach (var key in Settings.Values.Keys.Where(key => key.StartsWith("Gateway:Backup:", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            Settings.Values.Remove(key);
        }

        var values = Settings.Values;
        values["Gateway:Sites:0:Database:DataDirectory"] = Postgres.Primary.DataDirectory;
        values["Gateway:Sites:1:Database:DataDirectory"] = Postgres.Standby.DataDirectory;
        values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        // Only what a case does moves anything: no automatic failover when a restart makes a site look down.
        values["Gateway:Coordinator:AutoFailover"] = "false";
        values["Gateway:Database:AutoFailover"] = "false";
        values["Gateway:Backup:RepositoryPath"] = Repository;
        values["Gateway:Backup:PasswordFile"] = ResticKeyFile;
        values["Gateway:Backup:ScratchPath"] = Scratch;
        values["Gateway:Backup:VerifyCommand"] = VerifyScript;
        values["Gateway:Backup:PgBackRest:SocketDirectory"] = SocketDirectory;
        configure(values);
    }

    /// <summary>Starts the gateway on the current settings (a restart keeps the state directory) and waits until every broker is healthy through it.</summary>
    public async Task StartAsync(string name)
    {
        Gateway = StartGateway(name);
        try
        {
            await Gateway.WaitForAsync(status => status.Instances.All(i => i.Health == "Healthy"), "every broker healthy", TimeSpan.FromSeconds(30));
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"the gateway did not start: {e.Message}\n--- log ---\n{Gateway.LogTail(20)}", e);
        }
    }

    private GatewayProcess StartGateway(string name)
    {
        var gateway = new GatewayProcess(Settings, Settings.WriteJsonFile(), Path.Combine(Settings.Root, $"gateway-{name}-{_resets}.log"));
        gateway.Start();
        return gateway;
    }

    public async Task StopGatewayAsync()
    {
        if (Gateway is { } gateway)
        {
            if (gateway.IsRunning)
            {
                await gateway.StopAsync();
            }

            await gateway.DisposeAsync();
            Gateway = null;
        }
    }

    /// <summary>POST /admin/backup; the record, whatever the verdict.</summary>
    public async Task<(HttpResponseMessage Response, BackupRecord Record)> BackupAsync(string? sample = null)
    {
        var response = await BackupClient.PostAsJsonAsync("/admin/backup", new { });
        if (sample is not null)
        {
            await CaptureAsync(sample, response);
        }

        return (response, await ReadAsync<BackupRecord>(response));
    }

    public async Task<BackupRecord> SucceededBackupAsync(string? sample = null)
    {
        var (response, record) = await BackupAsync(sample);
        Assert.True(record.Status == BackupStatus.Succeeded, $"{response.StatusCode}: {record.Summary}\n{Describe(record)}\n--- gateway log ---\n{Gateway!.LogTail(40)}");
        return record;
    }

    public async Task<BackupList> ListAsync() => (await Admin.GetFromJsonAsync<BackupList>("/admin/backups", BackupCatalog.Json))!;

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonSerializer.Deserialize<T>(text, BackupCatalog.Json)!;
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode}: not a {typeof(T).Name}: {text}", e);
        }
    }

    /// <summary>Polls the running operation until its step starts with <paramref name="step"/>.</summary>
    public async Task WaitForStepAsync(string step, TimeSpan within)
    {
        var giveUpAt = DateTime.UtcNow + within;
        while ((await ListAsync()).Running is not { } running || !running.Step.StartsWith(step, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < giveUpAt, $"no backup reached '{step}' within {within}; log:\n{Gateway!.LogTail(30)}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Saves an answer as a sample for gatewayctl's tests (tests/Gateway.Cli.Tests/Samples) when
    /// GATEWAYCTL_CAPTURE_SAMPLES names that folder; otherwise does nothing.
    /// </summary>
    public static async Task CaptureAsync(string name, HttpResponseMessage response)
    {
        if (Environment.GetEnvironmentVariable("GATEWAYCTL_CAPTURE_SAMPLES") is { Length: > 0 } folder)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            await File.WriteAllTextAsync(Path.Combine(folder, name), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
    }

    /// <summary>While capturing: the list as it is while the database part copies, with its bytes.</summary>
    public async Task CaptureProgressAsync(string name)
    {
        if (Environment.GetEnvironmentVariable("GATEWAYCTL_CAPTURE_SAMPLES") is not { Length: > 0 })
        {
            return;
        }

        var giveUpAt = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < giveUpAt)
        {
            using var response = await Admin.GetAsync("/admin/backups");
            var list = await ReadAsync<BackupList>(response);
            if (list.Running is { BytesDone: > 0 })
            {
                await CaptureAsync(name, response);
                return;
            }

            await Task.Delay(20);
        }
    }

    public static string Describe(BackupRecord record) =>
        string.Join('\n', record.Steps.Select(step => $"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}"));

    /// <summary>Runs a command against the pgBackRest repository of the current case, as the gateway runs it.</summary>
    public Task<string> PgBackRestAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", "pgbackrest", $"--config={Path.Combine(Repository, "pgbackrest.conf")}", "--stanza=gateway", .. arguments]);

    /// <summary>restic on the current case's repository (its key from the test's file).</summary>
    public Task<string> ResticAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("env", [$"RESTIC_REPOSITORY={Path.Combine(Repository, "restic")}", $"RESTIC_PASSWORD_FILE={ResticKeyFile}", "TZ=UTC", "restic", "--no-cache", .. arguments]);

    public async Task DisposeAsync()
    {
        _backupClient?.Dispose();
        await StopGatewayAsync();
        foreach (var broker in Brokers)
        {
            await broker.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        Settings?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BackupSystemCollection : ICollectionFixture<BackupSystem>
{
    public const string Name = "backup system";
}
