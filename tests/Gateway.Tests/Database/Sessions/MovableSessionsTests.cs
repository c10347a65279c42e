using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Sessions;
using Gateway.Testing;
using Gateway.Tests.Database.Failover;
using Gateway.Tests.Hardening;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.Database.Sessions;

/// <summary>
/// The write endpoint in Movable mode, each case against a fresh real PostgreSQL primary (A) and streaming standby
/// (B) behind the real gateway: clients of every kind keep their sessions across planned switchovers and a kill -9
/// of the primary; sessions that cannot move, or stay in a transaction too long, get an error saying why.
/// </summary>
[Integration]
public sealed class MovableSessionsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private DatabaseFailoverFixture _system = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
    }

    private async Task StartAsync(Action<Dictionary<string, string?>>? configure = null) =>
        _system = await DatabaseFailoverFixture.StartAsync(values =>
        {
            values["Gateway:Database:SessionMode"] = "Movable";
            configure?.Invoke(values);
        });

    private int WritePort => _system.Settings.PgWritePort;

    /// <summary>
    /// For the long pgbench runs: a probe timing out on a machine loaded by pgbench itself must not start a failover
    /// in the middle of a measurement (one did, and stopped the primary under the direct runs). The site coordinator's
    /// automatic moves are off too: the switchover tests move the database alone, back and forth, and the site
    /// following it (a site switch started a second later) would hold the operation gate when the next promotion is
    /// asked for.
    /// </summary>
    private static void NoAutomaticFailover(Dictionary<string, string?> values)
    {
        values["Gateway:Database:AutoFailover"] = "false";
        values["Gateway:Coordinator:AutoFailover"] = "false";
    }

    /// <summary>
    /// The suite's check of the same as the benchmark below, in one run: pgbench in each protocol at once (6 + 5 + 5
    /// clients, one session each) through the write endpoint while the primary switches A -> B and back. Every client
    /// of every protocol rides through: none aborted, no transaction failed, every session moved.
    /// </summary>
    [Fact]
    public async Task Pgbench_clients_of_all_three_protocols_at_once_ride_through_planned_switchovers_from_A_to_B_and_back()
    {
        await StartAsync(NoAutomaticFailover);
        await InitializePgbenchAsync();
        var runs = new (string Protocol, int Clients)[] { ("simple", 6), ("extended", 5), ("prepared", 5) }
            .Select(p => (p.Protocol, Run: Pgbench.RunAsync(WritePort, TimeSpan.FromSeconds(150), logTransactions: false,
                "-c", p.Clients.ToString(), "-j", "1", "-T", "30", "-n", "-M", p.Protocol)))
            .ToList();
        await Task.Delay(TimeSpan.FromSeconds(4));

        var reports = await SwitchBackAndForthAsync(2, Task.WhenAny(runs.Select(r => r.Run)), "a pgbench ended early; give it more than 30 s");
        foreach (var (protocol, run) in runs)
        {
            var result = await run;
            output.WriteLine($"{protocol}: {result.Processed} transactions, {result.Tps:0} tps, {result.Failed} failed, {result.AbortedClients} aborted");
            Assert.True(result.ExitCode == 0 && result.AbortedClients == 0, $"{protocol}: pgbench exit {result.ExitCode}, {result.AbortedClients} aborted client(s): {result.Errors}");
            Assert.Equal(0, result.Failed);
        }

        Assert.All(reports, report => Assert.StartsWith("16 of 16 session(s) moved", Step(report, "move sessions")));
    }

    /// <summary>
    /// pgbench -c 16 -j 2 through the write endpoint while the primary switches A -> B -> A ... (the old primary
    /// rejoins as a standby between two switches), one protocol at a time: the benchmark of the write pause.
    /// GATEWAY_PGSESSIONS_SWITCHOVERS (default 2) and GATEWAY_PGSESSIONS_SECONDS (default 30) size it;
    /// bench/pgsessions/run.sh runs 10 switchovers. Prints, per switchover, the write pause clients saw (the longest
    /// time no transaction completed, from pgbench's per-transaction log) and pgbench's per-second progress around it.
    /// </summary>
    [BenchmarkTheory("GATEWAY_PGSESSIONS_BENCH", "bench/pgsessions/run.sh", "switchovers")]
    [InlineData("simple")]
    [InlineData("extended")]
    [InlineData("prepared")]
    public async Task Pgbench_clients_of_each_protocol_ride_through_planned_switchovers_from_A_to_B_and_back(string protocol)
    {
        var switchovers = SizeFromEnvironment("GATEWAY_PGSESSIONS_SWITCHOVERS", 2);
        var seconds = SizeFromEnvironment("GATEWAY_PGSESSIONS_SECONDS", 30);
        await StartAsync(NoAutomaticFailover);
        await InitializePgbenchAsync();
        var startedAt = DateTimeOffset.UtcNow;
        var run = Pgbench.RunAsync(WritePort, TimeSpan.FromSeconds(seconds + 120), logTransactions: true,
            "-c", "16", "-j", "2", "-T", seconds.ToString(), "-n", "-M", protocol, "-P", "1");
        await Task.Delay(TimeSpan.FromSeconds(4));

        var reports = await SwitchBackAndForthAsync(switchovers, run, $"pgbench ended early; give it more than {seconds} s");
        var result = await run;
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0 && result.AbortedClients == 0, $"pgbench exit {result.ExitCode}, {result.AbortedClients} aborted client(s): {result.Errors}");
        Assert.Equal(0, result.Failed);
        var pauses = new List<double>();
        for (var i = 0; i < reports.Count; i++)
        {
            var report = reports[i];
            // The promotion's own span (its last step waits for the sessions to land), with a margin that stays clear
            // of the next one: a rejoin takes longer than that between two switchovers.
            var pause = result.LongestGap(report.StartedAt - TimeSpan.FromMilliseconds(100), report.StartedAt + report.Total + TimeSpan.FromMilliseconds(300));
            pauses.Add(pause.TotalMilliseconds);
            var second = (report.StartedAt - startedAt).TotalSeconds;
            var progress = result.Progress.Where(p => p.At >= second && p.At <= second + 3).Select(p => $"{p.At:0}s {p.Tps:0}");
            output.WriteLine($"switchover {i + 1} ({report.From} -> {report.To}, {protocol}): write pause {pause.TotalMilliseconds:0} ms; " +
                $"promotion {report.Total.TotalMilliseconds:0} ms; tps per second around it: {string.Join(", ", progress)}");
            Assert.StartsWith("16 of 16 session(s) moved", Step(report, "move sessions"));
        }

        pauses.Sort();
        output.WriteLine($"write pause over {pauses.Count} switchovers ({protocol}): median {Median(pauses):0} ms, max {pauses[^1]:0} ms; " +
            $"{result.Processed} transactions, {result.Tps:0} tps, 0 failed, 0 aborted");
    }

    /// <summary>
    /// pgbench at a modest rate (most clients idle at any instant) while the primary is killed. Each transaction
    /// inserts a random 63-bit token: a statement run twice would show as a token twice. Every client that did not
    /// abort (one caught mid-transaction does) completes transactions on the new primary.
    /// </summary>
    [Fact]
    public async Task Pgbench_at_a_modest_rate_rides_through_a_kill_9_of_the_primary_and_runs_no_statement_twice()
    {
        await StartSynchronousWithExecutionsTableAsync("token bigint");

        var script = Path.Combine(_system.Settings.Root, "token.sql");
        await File.WriteAllTextAsync(script, "\\set token random(1, 9223372036854775806)\nINSERT INTO executions VALUES (:client_id, :token);\n");
        var run = Pgbench.RunAsync(WritePort, TimeSpan.FromSeconds(120), logTransactions: true,
            "-c", "16", "-j", "2", "-T", "20", "-R", "80", "-n", "-f", script, "-P", "1");
        await Task.Delay(TimeSpan.FromSeconds(5));
        _system.KillPostmaster("A");
        var killedAt = DateTimeOffset.UtcNow;
        await _system.WaitForStatusAsync(s => s.Database.Primary == "B" && !s.Switching, "automatic promotion of B");
        var result = await run;

        await using var onB = new NpgsqlConnection(_system.Postgres.Standby.ConnectionString());
        await onB.OpenAsync();
        var rows = await ScalarAsync<long>(onB, "SELECT count(*) FROM executions");
        var twice = await ScalarAsync<long>(onB, "SELECT count(*) FROM (SELECT token FROM executions GROUP BY token HAVING count(*) > 1) d");
        var carriedOn = result.ClientsCompletingAfter(killedAt + TimeSpan.FromSeconds(1));
        output.WriteLine($"kill -9 of A at {(killedAt - result.Completions[0]).TotalSeconds:0.0} s: {result.AbortedClients} of 16 clients aborted (in a transaction at the kill), " +
            $"{carriedOn.Count} carried on; {result.Processed} transactions acknowledged, {rows} rows on B, {twice} tokens twice; " +
            $"write pause {result.LongestGap(killedAt - TimeSpan.FromSeconds(1), killedAt + TimeSpan.FromSeconds(8)).TotalMilliseconds:0} ms");
        Assert.Equal(0, twice);
        Assert.True(rows >= result.Processed, $"{result.Processed - rows} acknowledged transactions lost");
        // An aborted client may have had its last insert committed without hearing so: at most one each.
        Assert.True(rows <= result.Processed + result.AbortedClients, $"{rows} rows for {result.Processed} acknowledged transactions");
        Assert.Equal(16 - result.AbortedClients, carriedOn.Count);
    }

    [BenchmarkFact("GATEWAY_PGSESSIONS_BENCH", "bench/pgsessions/run.sh", "throughput")]
    public async Task Pgbench_runs_through_both_modes_of_the_endpoint_and_prints_their_throughput_against_the_primary_directly()
    {
        var rounds = SizeFromEnvironment("GATEWAY_PGSESSIONS_ROUNDS", 1);
        var seconds = SizeFromEnvironment("GATEWAY_PGSESSIONS_ROUND_SECONDS", 3);
        var scale = SizeFromEnvironment("GATEWAY_PGSESSIONS_SCALE", 1);
        await StartAsync(NoAutomaticFailover);
        await using var passThrough = await PassThroughGatewayAsync(PgEndpointScheduling.Inline);
        // The endpoint as it was before its sockets completed inline: the baseline of that change, in the same rounds.
        await using var threadPool = await PassThroughGatewayAsync(PgEndpointScheduling.ThreadPool);
        using var haproxy = HaproxyReference.StartIfInstalled(_system.Postgres.Primary.Port);
        var targets = new (string Name, int Port)[]
        {
            ("direct", _system.Postgres.Primary.Port), ("PassThrough", passThrough.Settings.PgWritePort),
            ("PassThrough/ThreadPool", threadPool.Settings.PgWritePort), ("Movable", WritePort),
        };
        if (haproxy is not null)
        {
            // Any TCP proxy on the same cores costs something: HAProxy's cost, in the same rounds, is the yardstick.
            targets = [.. targets, ("HAProxy", haproxy.Port)];
        }
        else
        {
            output.WriteLine($"{HaproxyReference.Binary} not installed (deploy/prereqs.sh haproxy): no reference TCP proxy in this run");
        }

        await InitializePgbenchAsync(scale);
        foreach (var (workload, options) in new (string, string[])[] { ("select-only", ["-S"]), ("tpcb-like", []) })
        {
            var tps = targets.ToDictionary(t => t.Name, _ => new List<double>());
            var cpu = targets.ToDictionary(t => t.Name, _ => new List<double>());
            for (var round = 0; round < rounds; round++)
            {
                // Each round runs all of them, in an order that rotates, so drift of the machine hits each alike.
                foreach (var (name, port) in targets.Skip(round % targets.Length).Concat(targets.Take(round % targets.Length)))
                {
                    // The proxy's CPU time per transaction does not depend on how busy the machine is, unlike its throughput.
                    var cpuBefore = ProxyCpu(name, haproxy);
                    var result = await Pgbench.RunAsync(port, TimeSpan.FromSeconds(seconds + 60), logTransactions: false,
                        ["-c", "16", "-j", "2", "-T", seconds.ToString(), "-n", .. options]);
                    Assert.True(result.ExitCode == 0 && result.Failed == 0 && result.Tps > 0, $"{name}: exit {result.ExitCode}: {result.Errors}");
                    tps[name].Add(result.Tps);
                    cpu[name].Add((ProxyCpu(name, haproxy) - cpuBefore).TotalMicroseconds / result.Processed);
                }
            }

            var ratios = targets.Skip(1).Select(t =>
                $"{t.Name} {Median(tps[t.Name]):0} tps, {Median(tps[t.Name].Zip(tps["direct"], (g, d) => g / d).ToList()):0.000} of direct, {Median(cpu[t.Name]):0} us CPU per transaction");
            // During the direct runs the test process only idles (observers and probes of both gateways): its background.
            output.WriteLine($"endpoint throughput ({workload}, scale {scale}, -c 16 -j 2, {rounds} round(s) of {seconds} s): direct {Median(tps["direct"]):0} tps " +
                $"(gateways' background {Median(cpu["direct"]):0} us CPU per transaction); {string.Join("; ", ratios)}");
        }
    }

    /// <summary>CPU time of the process a target's proxy runs in: the test process (both gateways, or nothing for direct), or HAProxy.</summary>
    private static TimeSpan ProxyCpu(string target, HaproxyReference? haproxy) =>
        target == "HAProxy" ? haproxy!.CpuTime : System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>A second gateway in front of the same pair, in the default mode, that only forwards (it never promotes).</summary>
    private async Task<SecondGateway> PassThroughGatewayAsync(PgEndpointScheduling scheduling)
    {
        var settings = new GatewaySettings(["http://127.0.0.1:1"], ["http://127.0.0.1:2"], _system.Postgres.Primary.Port, _system.Postgres.Standby.Port);
        settings.Values["Gateway:Database:EndpointScheduling"] = scheduling.ToString();
        settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        settings.Values["Gateway:Database:AutoFailover"] = "false";
        return new SecondGateway(settings, await RunningGateway.StartAsync(settings));
    }

    private sealed class SecondGateway(GatewaySettings settings, RunningGateway gateway) : IAsyncDisposable
    {
        public GatewaySettings Settings => settings;

        public async ValueTask DisposeAsync()
        {
            await gateway.DisposeAsync();
            settings.Dispose();
        }
    }

    /// <summary>GATEWAY_PGSESSIONS_SWITCHOVERS (default 2) switchovers A -> B -> A ...; bench/pgsessions/run.sh runs 10.</summary>
    [Fact]
    public async Task A_pooled_Npgsql_application_fails_no_command_across_switchovers_from_A_to_B_and_back()
    {
        await StartAsync(NoAutomaticFailover);
        await InsertLoad.CreateTableAsync(_system.WriteEndpoint());
        await using var pool = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_system.WriteEndpoint()) { Pooling = true, MaxPoolSize = 6, ApplicationName = "pooled" }.ConnectionString);
        var failures = new ConcurrentQueue<string>();
        var commands = 0L;
        var nextId = 0L;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 12).Select(worker => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var connection = await pool.OpenConnectionAsync();
                    await using var insert = new NpgsqlCommand("INSERT INTO acks (id, payload) VALUES (@id, 'pooled')", connection);
                    insert.Parameters.AddWithValue("id", Interlocked.Increment(ref nextId));
                    if (worker % 2 == 0)
                    {
                        // Prepared statements persist on Npgsql's pooled connections: they must follow a moved session.
                        await insert.PrepareAsync();
                    }

                    await insert.ExecuteNonQueryAsync();
                    await using var count = new NpgsqlCommand("SELECT count(*) FROM acks WHERE id <= @id", connection);
                    count.Parameters.AddWithValue("id", nextId);
                    await count.ExecuteScalarAsync();
                    Interlocked.Add(ref commands, 2);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
                {
                    failures.Enqueue(e.Message);
                }

                await Task.Delay(5, CancellationToken.None);
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        var reports = await SwitchBackAndForthAsync(SizeFromEnvironment("GATEWAY_PGSESSIONS_SWITCHOVERS", 2));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        foreach (var report in reports)
        {
            output.WriteLine($"{report.From} -> {report.To}: {Step(report, "move sessions")}");
        }

        output.WriteLine($"Npgsql pool across {reports.Count} switchovers: {commands} commands, {failures.Count} failed");
        Assert.True(failures.IsEmpty, $"{failures.Count} failed commands: {string.Join(" | ", failures.Distinct().Take(5))}");
        Assert.True(commands > 200, $"only {commands} commands ran");
    }

    [Fact]
    public async Task Sessions_holding_a_temporary_table_an_advisory_lock_or_LISTEN_are_closed_at_their_next_idle_moment_saying_why()
    {
        await StartAsync();
        var holders = new (string Sql, string Said, string Reason)[]
        {
            ("CREATE TEMP TABLE scratch (x int)", "temporary table", "temporary_objects"),
            ("SELECT pg_advisory_lock(16)", "advisory lock", "advisory_locks"),
            ("LISTEN jobs", "LISTEN", "listen"),
        };
        var connections = new List<NpgsqlConnection>();
        foreach (var holder in holders)
        {
            connections.Add(await OpenAsync());
            await ExecuteAsync(connections[^1], holder.Sql);
        }

        await using var plain = await OpenAsync();
        await ExecuteAsync(plain, "SELECT 1");

        var report = await SwitchAsync("B");

        for (var i = 0; i < holders.Length; i++)
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connections[i], "SELECT 1"));
            Assert.Equal("57P01", error.SqlState);
            Assert.Contains(holders[i].Said, error.MessageText);
            await connections[i].DisposeAsync();
        }

        Assert.Equal(_system.Postgres.Standby.Port, await ScalarAsync<int>(plain, "SELECT inet_server_port()"));
        Assert.Contains("4 session(s) left A at their transaction boundary", Step(report, "fence A"));
        Assert.Contains("3 of them closed", Step(report, "fence A"));
        var metrics = await MetricsScrape.FetchAsync(_system.Gateway.Admin.BaseAddress!);
        foreach (var holder in holders)
        {
            Assert.Equal(1, metrics.Value($"gateway_pg_sessions_closed_total{{reason=\"{holder.Reason}\"}}"));
        }

        Assert.Equal(1, metrics.Value("gateway_pg_sessions_moved_total{site=\"B\"}"));
    }

    [Fact]
    public async Task A_transaction_still_open_when_the_move_timeout_runs_out_gets_a_clean_error_and_what_it_wrote_is_rolled_back()
    {
        await StartAsync(values => values["Gateway:Database:SessionMoveTimeout"] = "00:00:01");
        await InsertLoad.CreateTableAsync(_system.WriteEndpoint());
        await using var open = await OpenAsync();
        await using var committed = await OpenAsync();
        await ExecuteAsync(committed, "INSERT INTO acks (id, payload) VALUES (1, 'committed before the switch')");
        await ExecuteAsync(open, "BEGIN");
        await ExecuteAsync(open, "INSERT INTO acks (id, payload) VALUES (2, 'never committed')");

        var report = await SwitchAsync("B");

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(open, "COMMIT"));
        Assert.Equal("57P01", error.SqlState);
        Assert.Contains("still in a transaction 1 s after", error.MessageText);
        await ExecuteAsync(committed, "INSERT INTO acks (id, payload) VALUES (3, 'after the switch')");
        Assert.Equal([1L, 3L], (await InsertLoad.IdsOnAsync(_system.Postgres.Standby.ConnectionString())).Order());
        Assert.True(report.Steps.Single(s => s.Step == "fence A").Duration >= TimeSpan.FromSeconds(1));
        var metrics = await MetricsScrape.FetchAsync(_system.Gateway.Admin.BaseAddress!);
        Assert.Equal(1, metrics.Value("gateway_pg_sessions_closed_total{reason=\"move_timeout\"}"));
    }

    /// <summary>
    /// Clients insert (client, round) rows in rounds; between two rounds, with every client idle, the primary's
    /// postmaster is killed. The next round must succeed for every client, on B, once it is promoted; a session in
    /// a transaction at the kill gets an error. The table has no key, so a statement run twice would show as two rows.
    /// </summary>
    [Fact]
    public async Task After_kill_9_of_the_primary_idle_sessions_carry_on_on_the_new_one_and_no_statement_runs_twice()
    {
        await StartSynchronousWithExecutionsTableAsync("round int");

        const int clients = 8;
        var sessions = new List<NpgsqlConnection>();
        for (var i = 0; i < clients; i++)
        {
            sessions.Add(await OpenAsync());
        }

        async Task RoundAsync(int round) => await Task.WhenAll(sessions.Select((session, client) =>
            ExecuteAsync(session, $"INSERT INTO executions VALUES ({client}, {round})")));

        await RoundAsync(1);
        await RoundAsync(2);
        await using var inTransaction = await OpenAsync();
        await ExecuteAsync(inTransaction, "BEGIN");
        await ExecuteAsync(inTransaction, "INSERT INTO executions VALUES (99, 0)");

        _system.KillPostmaster("A");
        var killedAt = DateTime.UtcNow;
        // Idle at the moment the primary dies: the next request comes once its backends are gone. One that races
        // them may have reached a backend, so it gets an error instead (never a second run).
        await Task.Delay(300);
        await RoundAsync(3);
        var carriedOnAfter = DateTime.UtcNow - killedAt;
        await RoundAsync(4);

        var lost = await Assert.ThrowsAnyAsync<NpgsqlException>(() => ExecuteAsync(inTransaction, "COMMIT"));
        output.WriteLine($"round 3 done {carriedOnAfter.TotalMilliseconds:0} ms after the kill; the session in a transaction got: {lost.Message}");
        foreach (var session in sessions)
        {
            Assert.Equal(_system.Postgres.Standby.Port, await ScalarAsync<int>(session, "SELECT inet_server_port()"));
        }

        await using var onB = new NpgsqlConnection(_system.Postgres.Standby.ConnectionString());
        await onB.OpenAsync();
        await using var rows = new NpgsqlCommand("SELECT client, round, count(*) FROM executions GROUP BY client, round ORDER BY round, client", onB);
        await using var reader = await rows.ExecuteReaderAsync();
        var counted = new List<(int Client, int Round, long Count)>();
        while (await reader.ReadAsync())
        {
            counted.Add((reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2)));
        }

        var expected = Enumerable.Range(1, 4).SelectMany(round => Enumerable.Range(0, clients).Select(client => (client, round, 1L))).ToList();
        Assert.Equal(expected, counted);
        var history = (await _system.Gateway.Admin.GetFromJsonAsync<List<PromotionReport>>("/admin/database/history", AdminRequests.Json))!;
        Assert.StartsWith($"{clients} of {clients} session(s) moved", Step(history.Single(), "move sessions"));
        // The session in a transaction was closed when its node's connection ended, before the fence: with the node's own words.
        var metrics = await MetricsScrape.FetchAsync(_system.Gateway.Admin.BaseAddress!);
        Assert.Equal(1, metrics.Value("gateway_pg_sessions_closed_total{reason=\"lost_in_request\"}"));
    }

    [Fact]
    public async Task Bad_input_is_refused_and_counted_and_never_disturbs_another_session()
    {
        await StartAsync(values => values["Gateway:Database:SessionMoveTimeout"] = "00:00:03");
        await using var bystander = await OpenAsync();

        var version4 = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(version4, 16);
        BinaryPrimitives.WriteInt32BigEndian(version4.AsSpan(4), 4 << 16);
        var unknownVersion = await RawHttp.SendAsync(WritePort, version4);
        Assert.True(unknownVersion.ClosedByServer, unknownVersion.ToString());

        var unterminated = PgStartupPacket.Build(("user", "postgres"))[..^1];
        BinaryPrimitives.WriteInt32BigEndian(unterminated, unterminated.Length);
        var broken = await RawHttp.SendAsync(WritePort, unterminated);
        Assert.True(broken.ClosedByServer && broken.Text.Contains("08P01") && broken.Text.Contains("not terminated"), broken.ToString());

        await using (var garbage = await RawPgClient.LoginAsync(WritePort))
        {
            var bytes = new byte[64];
            new Random(16).NextBytes(bytes);
            bytes[0] = (byte)'!';
            await garbage.SendAsync(bytes);
            var answer = await garbage.ReadUntilReadyAsync();
            var error = Assert.Single(answer);
            Assert.Equal('E', error.Type);
            Assert.Contains("08P01", PgMessages.Text(error.Body));
            Assert.True(await garbage.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        }

        // A client that vanishes while its request is held for a move: a transaction left open keeps the fence
        // waiting (3 s), so the other sessions wait for the new primary that long.
        await using var blocker = await OpenAsync();
        await ExecuteAsync(blocker, "BEGIN");
        var vanishing = await RawPgClient.LoginAsync(WritePort);
        var promotion = _system.PromoteAsync("B");
        await _system.WaitForStatusAsync(s => s.Database.Write.Action == "Hold", "writes held");
        await Task.Delay(300);
        await vanishing.SendAsync(PgMessages.Query("SELECT 1"));
        await Task.Delay(300);
        await vanishing.DisposeAsync();
        var (report, response) = await promotion;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Print(report!);

        Assert.Equal(_system.Postgres.Standby.Port, await ScalarAsync<int>(bystander, "SELECT inet_server_port()"));
        var metrics = await MetricsScrape.FetchAsync(_system.Gateway.Admin.BaseAddress!);
        Assert.Equal(2, metrics.Value("gateway_pg_connections_total{result=\"malformed\",role=\"write\",site=\"none\"}"));
        Assert.Equal(1, metrics.Value("gateway_pg_sessions_closed_total{reason=\"client_protocol_violation\"}"));
        Assert.Equal(1, metrics.Value("gateway_pg_sessions_closed_total{reason=\"client_gone_while_held\"}"));
        Assert.Equal(1, metrics.Value("gateway_pg_sessions_closed_total{reason=\"move_timeout\"}"));
    }

    [Fact]
    public async Task A_scram_session_moves_with_its_settings_and_prepared_statements_and_a_wrong_password_is_still_refused()
    {
        await StartAsync();
        await _system.Postgres.Primary.ExecuteAsync("SET password_encryption = 'scram-sha-256'; CREATE ROLE mover LOGIN PASSWORD 'correct horse'; CREATE SCHEMA app AUTHORIZATION mover");
        foreach (var node in new[] { _system.Postgres.Primary, _system.Postgres.Standby })
        {
            var hba = Path.Combine(node.DataDirectory, "pg_hba.conf");
            await File.WriteAllTextAsync(hba, "host all mover 127.0.0.1/32 scram-sha-256\n" + await File.ReadAllTextAsync(hba));
            await node.ExecuteAsync("SELECT pg_reload_conf()");
        }

        var login = new NpgsqlConnectionStringBuilder(_system.WriteEndpoint()) { Username = "mover", Password = "correct horse", ApplicationName = "mover-app" };
        await using var session = new NpgsqlConnection(login.ConnectionString);
        await session.OpenAsync();
        await ExecuteAsync(session, "SET search_path = app");
        await ExecuteAsync(session, "SET statement_timeout = '7s'");
        await ExecuteAsync(session, "CREATE TABLE things (x int); INSERT INTO things VALUES (1), (2)");
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM things WHERE x > @x", session);
        prepared.Parameters.AddWithValue("x", 0);
        await prepared.PrepareAsync();
        Assert.Equal(2L, await prepared.ExecuteScalarAsync());

        var report = await SwitchAsync("B");

        Assert.Equal(2L, await prepared.ExecuteScalarAsync());
        Assert.Equal(_system.Postgres.Standby.Port, await ScalarAsync<int>(session, "SELECT inet_server_port()"));
        Assert.Equal("app", await ScalarAsync<string>(session, "SHOW search_path"));
        Assert.Equal("7s", await ScalarAsync<string>(session, "SHOW statement_timeout"));
        Assert.Equal("mover-app", await ScalarAsync<string>(session, "SHOW application_name"));
        Assert.StartsWith("1 of 1 session(s) moved", Step(report, "move sessions"));

        login.Password = "battery staple";
        await using var wrong = new NpgsqlConnection(login.ConnectionString);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => wrong.OpenAsync());
        Assert.Equal("28P01", refused.SqlState);
    }

    [Fact]
    public async Task A_cancel_request_reaches_the_node_the_session_runs_on_before_and_after_it_moves()
    {
        await StartAsync();
        await using var session = await OpenAsync();

        await AssertCancelledAsync(session);
        await SwitchAsync("B");
        await AssertCancelledAsync(session);

        Assert.Equal(_system.Postgres.Standby.Port, await ScalarAsync<int>(session, "SELECT inet_server_port()"));
    }

    /// <summary>Npgsql's Cancel sends a CancelRequest with the key the session was given, on a new connection to the gateway.</summary>
    private static async Task AssertCancelledAsync(NpgsqlConnection session)
    {
        await using var sleep = new NpgsqlCommand("SELECT pg_sleep(60)", session);
        var running = sleep.ExecuteNonQueryAsync();
        await Task.Delay(500);
        sleep.Cancel();
        // Npgsql reports a cancelled command as cancelled, with the server's query_canceled inside: the node did cancel it.
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("57014", Assert.IsType<PostgresException>(cancelled.InnerException).SqlState);
        Assert.Equal(1, await ScalarAsync<int>(session, "SELECT 1"));
    }

    /// <summary>
    /// For a kill -9: synchronous replication (Degrade), so that no acknowledged commit can be lost, and a table without
    /// a key counting executions (a statement run twice shows as two rows).
    /// </summary>
    private async Task StartSynchronousWithExecutionsTableAsync(string identifying)
    {
        await StartAsync(values =>
        {
            values["Gateway:Database:SynchronousMode"] = "Degrade";
            values["Gateway:Database:DegradeAfter"] = "00:00:05";
        });
        await _system.WaitForStatusAsync(s => s.Database.Nodes.Single(n => n.Site == "A").SynchronousStandbyNames == "*", "A synchronous");
        await using var setup = await OpenAsync();
        await ExecuteAsync(setup, $"CREATE TABLE executions (client int, {identifying})");
    }

    /// <summary>Planned switchovers A -> B -> A ..., the old primary rejoining by itself between two; <paramref name="mustStillRun"/> must outlast them.</summary>
    private async Task<List<PromotionReport>> SwitchBackAndForthAsync(int switchovers, Task? mustStillRun = null, string? why = null)
    {
        var reports = new List<PromotionReport>();
        for (var i = 0; i < switchovers; i++)
        {
            Assert.False(mustStillRun?.IsCompleted == true, $"before switchover {i + 1} of {switchovers}: {why}");
            var (from, to) = i % 2 == 0 ? ("A", "B") : ("B", "A");
            reports.Add(await SwitchAsync(to));
            if (i < switchovers - 1)
            {
                await WaitUntilStreamingAsync(from);
            }
        }

        return reports;
    }

    private async Task<PromotionReport> SwitchAsync(string to)
    {
        var (report, response) = await _system.PromoteAsync(to);
        Assert.True(response.StatusCode == HttpStatusCode.OK && report is { Succeeded: true }, $"promotion of {to}: {response.StatusCode} {report?.Summary}");
        Print(report!);
        return report!;
    }

    private void Print(PromotionReport report)
    {
        output.WriteLine(report.Summary);
        foreach (var step in report.Steps)
        {
            output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
        }
    }

    /// <summary>A planned promotion rejoins the old primary by itself (pg_rewind if needed): wait until it streams.</summary>
    private async Task WaitUntilStreamingAsync(string site)
    {
        await _system.WaitForStatusAsync(s => s.Database.Read is { Action: "Forward" } read && read.Site == site, $"{site} streaming", TimeSpan.FromSeconds(60));
    }

    private static int SizeFromEnvironment(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var value) && value > 0 ? value : fallback;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private async Task InitializePgbenchAsync(int scale = 1)
    {
        var init = await Pgbench.RunAsync(WritePort, TimeSpan.FromSeconds(300), logTransactions: false, "-i", "-s", scale.ToString(), "-q");
        Assert.True(init.ExitCode == 0, init.Errors);
    }

    private static string Step(PromotionReport report, string prefix) => report.Steps.Single(s => s.Step.StartsWith(prefix, StringComparison.Ordinal)).Outcome;

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_system.WriteEndpoint());
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
