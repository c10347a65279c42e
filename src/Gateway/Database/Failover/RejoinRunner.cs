using Gateway.Configuration;
using Gateway.Database.Nodes;
using Gateway.Database.Observation;
using Gateway.Model;
using Gateway.Operations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Database.Failover;

public enum RejoinMethod
{
    /// <summary>pg_rewind, and a fresh base backup if that fails.</summary>
    Auto,
    Rewind,
    BaseBackup,
}

/// <summary>
/// What a rejoin did, step by step. <see cref="WhatItHad"/> records, before the node was rebuilt, what it had that the
/// primary lacks (an old primary's WAL past the fork), so that an automatic rejoin never discards data unrecorded.
/// </summary>
public sealed record RejoinReport(
    string Site,
    string Primary,
    RejoinMethod Method,
    bool Succeeded,
    string Summary,
    IReadOnlyList<StepRecord> Steps,
    DateTimeOffset? StartedAt = null,
    TimeSpan? Total = null,
    string? WhatItHad = null) : IOperationReport;

/// <summary>
/// Brings the old primary back as a standby of the new one: stop it, rewind it to the new timeline (or copy it
/// afresh), start it, wait until it streams, and only then let the read endpoint use it again.
/// </summary>
public sealed class RejoinRunner(
    NodeCommands commands,
    NodeConnections nodes,
    DatabaseObserver observer,
    DatabaseRoutingTable routing,
    Alarms alarms,
    IOptions<GatewayOptions> options)
{
    private static readonly TimeSpan StreamingTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan AutoFallbackAfter = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CheckpointTimeout = TimeSpan.FromSeconds(60);
    /// <summary>The body of a rejoin operation: its steps go to <paramref name="journal"/>; the caller's <see cref="ExclusiveOperation"/> holds the gate and records the report.</summary>
    public async Task<RejoinReport> RejoinAsync(string site, RejoinMethod method, StepJournal journal, CancellationToken cancellation)
    {
        var primary = routing.Current.Primary;
        if (primary is null || primary == site)
        {
            return new(site, primary ?? "none", method, false,
                primary is null ? "no primary is designated (a switch is running): nothing to rejoin to" : $"site {site} is the primary; only the other node can rejoin", journal.Steps);
        }

        var siteIndex = options.Value.Sites.FindIndex(s => s.Id == site);
        if (string.IsNullOrEmpty(options.Value.Sites[siteIndex].Database.DataDirectory))
        {
            return new(site, primary, method, false, $"Gateway:Sites:{siteIndex}:Database:DataDirectory is not configured: the gateway cannot rebuild that node", journal.Steps);
        }

        routing.Fence(site);
        await journal.RunAsync($"stop {site}", async () => Describe(await commands.StopAsync(site, cancellation), tolerated: "not running is fine"));
        var rebuilt = method switch
        {
            RejoinMethod.BaseBackup => await BaseBackupAsync(journal, site, primary, cancellation),
            _ => await RewindAsync(journal, site, primary, cancellation) || (method == RejoinMethod.Auto && await BaseBackupAsync(journal, site, primary, cancellation)),
        };
        if (!rebuilt)
        {
            return new(site, primary, method, false, $"site {site} could not be rebuilt as a standby of {primary}; it stays fenced (see the steps)", journal.Steps);
        }

        var streaming = await StartAndWaitForStreamingAsync(journal, site, primary, method == RejoinMethod.Auto ? AutoFallbackAfter : StreamingTimeout, cancellation);
        if (!streaming && method == RejoinMethod.Auto)
        {
            // A rewound node that cannot follow the new timeline (its WAL went past the fork) is copied afresh.
            await journal.RunAsync($"stop {site} again", async () => Describe(await commands.StopAsync(site, cancellation), tolerated: "not running is fine"));
            streaming = await BaseBackupAsync(journal, site, primary, cancellation)
                && await StartAndWaitForStreamingAsync(journal, site, primary, StreamingTimeout, cancellation);
        }

        if (!streaming)
        {
            return new(site, primary, method, false, $"site {site} was rebuilt but does not stream from {primary}; it stays fenced", journal.Steps);
        }

        routing.Unfence(site);
        alarms.Clear(DatabaseSupervisor.SplitBrainAlarm);
        return new(site, primary, method, true, $"site {site} is a streaming standby of {primary} again; the read endpoint uses it", journal.Steps);
    }

    private async Task<bool> StartAndWaitForStreamingAsync(StepJournal journal, string site, string primary, TimeSpan timeout, CancellationToken cancellation)
    {
        var started = await journal.RunAsync($"start {site} as a standby", async () =>
        {
            var result = await commands.StartAsync(site, cancellation);
            return (result.Succeeded, Describe(result, tolerated: null));
        });
        return started && await journal.RunAsync($"wait until {site} streams from {primary}", () => WaitUntilStreamingAsync(site, primary, timeout, cancellation));
    }

    private async Task<bool> RewindAsync(StepJournal journal, string site, string primary, CancellationToken cancellation)
    {
        // Without it, a rejoin soon after a promotion met a pg_rewind that compared the old timeline with itself,
        // answered "no rewind required", and left a node that could not follow (NodeSql.CheckpointAsync). Should the
        // checkpoint fail, the rewind is still tried: the wait for streaming below catches a node that cannot follow.
        await journal.RunAsync($"checkpoint {primary}, so that pg_rewind reads its timeline", async () =>
        {
            try
            {
                await NodeSql.CheckpointAsync(nodes.For(primary), CheckpointTimeout, cancellation);
                return (true, "done");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                return (false, $"failed, pg_rewind may misjudge the timeline: {e.Message}");
            }
        });
        var result = await journal.RunAsync($"pg_rewind {site} from {primary}", async () =>
        {
            var first = await commands.RewindAsync(site, primary, cancellation);
            if (first.Succeeded || !first.Output.Contains("shut down cleanly", StringComparison.Ordinal))
            {
                return (first.Succeeded, Describe(first, tolerated: null));
            }

            // A crashed primary must finish crash recovery before pg_rewind accepts it: start it (the gateway routes
            // nothing to it, it is fenced) and stop it cleanly, then rewind.
            await commands.StartAsync(site, cancellation);
            await commands.StopAsync(site, cancellation);
            var second = await commands.RewindAsync(site, primary, cancellation);
            return (second.Succeeded, "after crash recovery: " + Describe(second, tolerated: null));
        });
        return result;
    }

    private Task<bool> BaseBackupAsync(StepJournal journal, string site, string primary, CancellationToken cancellation) =>
        journal.RunAsync($"base backup of {site} from {primary}", async () =>
        {
            var result = await commands.BaseBackupAsync(site, primary, cancellation);
            return (result.Succeeded, Describe(result, tolerated: null));
        });

    /// <summary>
    /// Waits until the node follows the primary in two observations in a row (the observer's, as it publishes them): a
    /// node that cannot follow (see <see cref="DatabaseSnapshot.WhyNotFollowing"/>) may look connected for a moment
    /// before its WAL receiver gives up.
    /// </summary>
    private async Task<(bool, string)> WaitUntilStreamingAsync(string site, string primary, TimeSpan timeout, CancellationToken cancellation)
    {
        var followedBefore = false;
        string? why = "not observed yet";
        var streaming = await observer.WaitForAsync(snapshot =>
        {
            why = snapshot.WhyNotFollowing(primary, site);
            var twice = why is null && followedBefore;
            followedBefore = why is null;
            return twice;
        }, timeout, cancellation);
        return streaming is { } snapshot
            ? (true, $"streaming on timeline {snapshot.Node(primary)?.Timeline}; {snapshot.ReplayLagBytes(primary, site)} bytes behind")
            : (false, $"not streaming after {timeout.TotalSeconds:0} s: {why}");
    }

    private static string Describe(CommandResult result, string? tolerated) =>
        $"exit {result.ExitCode}{(result.Succeeded || tolerated is null ? "" : $" ({tolerated})")}: {LastLine(result.Output)}";

    private static string LastLine(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
}
