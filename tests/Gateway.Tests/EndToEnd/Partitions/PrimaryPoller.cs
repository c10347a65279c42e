using System.Collections.Concurrent;
using Npgsql;

namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>What one path to the database answered: the site whose node it reached, and that node's state.</summary>
public sealed record NodeAnswer(string Site, bool InRecovery, bool ReadOnly);

/// <summary>
/// One poll: the node a new connection through the gateway's write endpoint reached, the one through its read
/// endpoint, and each node asked directly at its own address (the truth, where the test can reach it). Null: no answer
/// within the poll's timeout (refused, held, or cut off).
/// </summary>
public sealed record PrimaryPoll(long AtMs, NodeAnswer? WriteEndpoint, NodeAnswer? ReadEndpoint, NodeAnswer? DirectA, NodeAnswer? DirectB)
{
    /// <summary>
    /// The distinct nodes out of recovery (pg_is_in_recovery() = false) that a client reached through the gateway at
    /// this moment. Two means two writable primaries behind the gateway, what invariant 1 of docs/architecture.md forbids.
    /// </summary>
    public IReadOnlyList<string> OutOfRecoveryThroughGateway { get; } =
        new[] { WriteEndpoint, ReadEndpoint }.OfType<NodeAnswer>().Where(a => !a.InRecovery).Select(a => a.Site).Distinct().ToList();

    public bool TwoPrimariesThroughGateway => OutOfRecoveryThroughGateway.Count > 1;

    /// <summary>Both nodes out of recovery when asked directly (a fenced old primary stays so, read-only, until it rejoins).</summary>
    public bool BothOutOfRecoveryDirectly => DirectA is { InRecovery: false } && DirectB is { InRecovery: false };

    /// <summary>The site the write endpoint led to when that node took writes (out of recovery, not read-only).</summary>
    public string? WritableThroughWriteEndpoint => WriteEndpoint is { InRecovery: false, ReadOnly: false } answer ? answer.Site : null;
}

/// <summary>
/// Asks, every 100 ms, through the gateway's write and read endpoints and directly at each node, which node answers and
/// whether it is out of recovery: the recorder of the partition tests. Each poll opens new connections (a pooled one
/// would keep its old route), in parallel with the next polls, so a path that hangs does not slow the others down.
/// </summary>
public sealed class PrimaryPoller
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    // Longer than a connection takes on a loaded 2-core machine, short enough that a held or cut path counts as silent.
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(1.5);

    private readonly TwoSiteSystem _system;
    private readonly Func<TimeSpan> _clock;
    private readonly Dictionary<string, string> _siteByAddress;
    private readonly ConcurrentBag<PrimaryPoll> _polls = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private PrimaryPoller(TwoSiteSystem system, Func<TimeSpan> clock)
    {
        _system = system;
        _clock = clock;
        _siteByAddress = new() { [system.Postgres.Primary.Host] = "A", [system.Postgres.Standby.Host] = "B" };
        _running = RunAsync();
    }

    /// <summary>Starts polling; each poll is stamped with <paramref name="clock"/> (the workload's, so both logs share one time line).</summary>
    public static PrimaryPoller Start(TwoSiteSystem system, Func<TimeSpan> clock) => new(system, clock);

    /// <summary>Stops polling, waits for the polls still open, and returns them all in time order.</summary>
    public async Task<PrimaryPollReport> StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
        return new PrimaryPollReport([.. _polls.OrderBy(poll => poll.AtMs)]);
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Period);
        var open = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                open.Add(PollOnceAsync((long)_clock().TotalMilliseconds));
            }
        }
        catch (OperationCanceledException)
        {
            // StopAsync.
        }

        await Task.WhenAll(open);
    }

    private async Task PollOnceAsync(long atMs)
    {
        var gatewayHost = _system.Placements.GatewayAddress;
        var write = AskAsync(gatewayHost, _system.Settings.PgWritePort);
        var read = AskAsync(gatewayHost, _system.Settings.PgReadPort);
        var directA = AskAsync(_system.Postgres.Primary.Host, _system.Postgres.Primary.Port);
        var directB = AskAsync(_system.Postgres.Standby.Host, _system.Postgres.Standby.Port);
        _polls.Add(new PrimaryPoll(atMs, await write, await read, await directA, await directB));
    }

    private async Task<NodeAnswer?> AskAsync(string host, int port)
    {
        using var limit = new CancellationTokenSource(AnswerWithin);
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = host,
                Port = port,
                Username = "postgres",
                Database = "postgres",
                Pooling = false,
                Timeout = 2,
                CommandTimeout = 2,
            }.ConnectionString);
            await connection.OpenAsync(limit.Token);
            await using var command = new NpgsqlCommand(
                "SELECT host(inet_server_addr()), pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'", connection);
            await using var reader = await command.ExecuteReaderAsync(limit.Token);
            await reader.ReadAsync(limit.Token);
            return new NodeAnswer(_siteByAddress.GetValueOrDefault(reader.GetString(0), reader.GetString(0)), reader.GetBoolean(1), reader.GetBoolean(2));
        }
        catch (Exception silent) when (silent is NpgsqlException or OperationCanceledException or TimeoutException or IOException)
        {
            return null;
        }
    }
}

/// <summary>The polls of one test run and the figures the partition tests assert on and print.</summary>
public sealed record PrimaryPollReport(IReadOnlyList<PrimaryPoll> Polls)
{
    /// <summary>The longest run of consecutive polls that reached two primaries through the gateway; must be 0.</summary>
    public int LongestRunOfTwoPrimariesThroughGateway => LongestRun(poll => poll.TwoPrimariesThroughGateway);

    public int LongestRunOfBothOutOfRecoveryDirectly => LongestRun(poll => poll.BothOutOfRecoveryDirectly);

    /// <summary>The writable nodes the write endpoint led to, in order, repeats collapsed: ["A"] without a failover, ["A", "B"] with one.</summary>
    public IReadOnlyList<string> WriteEndpointPrimaries =>
        Polls.Select(poll => poll.WritableThroughWriteEndpoint).OfType<string>()
            .Aggregate(new List<string>(), (sequence, site) => sequence.LastOrDefault() == site ? sequence : [.. sequence, site]);

    /// <summary>When the write endpoint first led to a writable node of <paramref name="site"/> after <paramref name="afterMs"/>.</summary>
    public long? FirstWritableThroughWriteEndpoint(string site, long afterMs) =>
        Polls.FirstOrDefault(poll => poll.AtMs >= afterMs && poll.WritableThroughWriteEndpoint == site)?.AtMs;

    /// <summary>The longest stretch of polls in which the write endpoint led to no writable node (held, refused or cut off).</summary>
    public long LongestWithoutWritableWriteEndpointMs
    {
        get
        {
            var writable = Polls.Where(poll => poll.WritableThroughWriteEndpoint is not null).Select(poll => poll.AtMs).ToList();
            return writable.Zip(writable.Skip(1)).Select(pair => pair.Second - pair.First).DefaultIfEmpty(0).Max();
        }
    }

    public string Describe() =>
        $"{Polls.Count} polls every {PrimaryPoller.Period.TotalMilliseconds:0} ms; write endpoint answered {Count(p => p.WriteEndpoint)}, " +
        $"read endpoint {Count(p => p.ReadEndpoint)}, A directly {Count(p => p.DirectA)}, B directly {Count(p => p.DirectB)}; " +
        $"longest run of two primaries through the gateway: {LongestRunOfTwoPrimariesThroughGateway} polls; " +
        $"polls with both nodes out of recovery asked directly: {Polls.Count(p => p.BothOutOfRecoveryDirectly)} (longest run {LongestRunOfBothOutOfRecoveryDirectly}); " +
        $"write endpoint led to [{string.Join(" -> ", WriteEndpointPrimaries)}], longest gap without a writable node {LongestWithoutWritableWriteEndpointMs} ms";

    private int Count(Func<PrimaryPoll, NodeAnswer?> path) => Polls.Count(poll => path(poll) is not null);

    private int LongestRun(Func<PrimaryPoll, bool> holds) =>
        Polls.Aggregate((Current: 0, Longest: 0), (run, poll) => holds(poll) ? (run.Current + 1, Math.Max(run.Longest, run.Current + 1)) : (0, run.Longest)).Longest;
}
