using System.Security.Cryptography;
using Gateway.Testing;
using Npgsql;

namespace Gateway.Tests.Support;

/// <summary>
/// What one run of a <see cref="DepositWorkload"/> left behind, compared with its log. Lost, unexpected, duplicated
/// and corrupted must be 0 whenever the mode promises no loss (docs/architecture.md, invariant 2); the rest describes the run.
/// </summary>
public sealed record ConsistencyReport(
    int Sent,
    int Acknowledged,
    IReadOnlyList<string> Lost,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Duplicated,
    IReadOnlyList<string> Corrupted,
    int UnacknowledgedButPresent,
    int OrphanFiles,
    int FailedDeposits,
    int FailedReads,
    int Reads,
    TimeSpan LongestWindowWithoutWrite,
    string Surviving,
    string Replica,
    IReadOnlyList<string> ReplicaBehind)
{
    public bool IsClean => Lost.Count == 0 && Unexpected.Count == 0 && Duplicated.Count == 0 && Corrupted.Count == 0;

    /// <summary>The report in one line: the log line of a run and the message of its assertion.</summary>
    public override string ToString() =>
        $"consistency: {Acknowledged} acknowledged of {Sent} deposits sent, {Lost.Count} lost, {Unexpected.Count} unexpected, " +
        $"{Duplicated.Count} duplicated, {Corrupted.Count} corrupted, {UnacknowledgedButPresent} unacknowledged but present, " +
        $"{FailedDeposits} failed deposits, {FailedReads} failed reads of {Reads}, " +
        $"longest window without a successful write {LongestWindowWithoutWrite.TotalMilliseconds:0} ms; " +
        $"surviving side {Surviving}; {OrphanFiles} orphan files; replica: {Replica}, {ReplicaBehind.Count} acknowledged rows/files missing there";

    /// <summary>The first few of each problem, for an assertion message.</summary>
    public string Details() => string.Join("; ", new[]
    {
        ("lost", Lost), ("unexpected", Unexpected), ("duplicated", Duplicated), ("corrupted", Corrupted), ("replica behind", ReplicaBehind),
    }.Where(kind => kind.Item2.Count > 0).Select(kind => $"{kind.Item1}: {string.Join(", ", kind.Item2.Take(10))}"));
}

/// <summary>
/// Reads both databases (table deposits of db broker, directly, not through the gateway) and both SAN directories
/// and compares them with a workload's log. The surviving side is where writes go now: the one writable database
/// node and the SAN the filestore link points at. Only the workload may have written to the system: any other row
/// is "unexpected".
/// </summary>
public static class ConsistencyChecker
{
    private sealed record Row(Guid Id, string Name, string Sha256);

    /// <summary>What one site holds; null rows when its database does not answer (a killed site).</summary>
    private sealed record SiteContents(string Site, IReadOnlyList<Row>? Rows, IReadOnlyDictionary<Guid, string> Files);

    /// <param name="exceptFenced">An old primary the gateway fenced (read-only, not yet rejoined) is not a writable node.</param>
    /// <param name="whileRunning">The workload still runs: only deposits acknowledged before the check began are checked (the nodes are read one after the other).</param>
    public static async Task<ConsistencyReport> CheckAsync(DepositWorkload workload, PostgresPair postgres, GatewaySettings settings, bool exceptFenced = false, bool whileRunning = false)
    {
        var cutoff = whileRunning ? workload.Now : TimeSpan.MaxValue;
        var writable = await SiteInvariants.SingleWritableNodeAsync(postgres, exceptFenced);
        var linkTarget = new FileInfo(settings.FilestoreLink).ResolveLinkTarget(returnFinalTarget: true)!.FullName;
        var sites = new[]
        {
            new SiteContents("A", await RowsAsync(postgres.Primary), Files(settings.SanA)),
            new SiteContents("B", await RowsAsync(postgres.Standby), Files(settings.SanB)),
        };
        var database = sites.Single(s => s.Site == writable);
        var filestore = sites.Single(s => Path.GetFullPath(s.Site == "A" ? settings.SanA : settings.SanB) == linkTarget);
        var survivingRows = database.Rows!.ToLookup(r => r.Id);
        var acknowledged = workload.Acknowledged.Where(a => a.At <= cutoff).ToList();
        var acknowledgedNames = acknowledged.Select(a => a.Name).ToHashSet();

        var lost = acknowledged
            .SelectMany(a => new[]
            {
                survivingRows.Contains(a.Id) ? null : $"{a.Id} ({a.Name}): no row on {database.Site}",
                filestore.Files.ContainsKey(a.Id) ? null : $"{a.Id} ({a.Name}): no file on SAN {filestore.Site}",
            })
            .OfType<string>()
            .ToList();

        var allRows = sites.Where(s => s.Rows is not null).SelectMany(s => s.Rows!.Select(r => (s.Site, Row: r))).ToList();
        var unexpected = allRows.Where(r => !workload.Sent.ContainsKey(r.Row.Name)).Select(r => $"{r.Row.Name} (id {r.Row.Id}) on {r.Site}").ToList();
        var duplicated = sites.Where(s => s.Rows is not null)
            .SelectMany(s => s.Rows!.GroupBy(r => r.Name).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()} on {s.Site}"))
            .ToList();

        var corrupted = new List<string>();
        foreach (var site in sites)
        {
            var rows = (site.Rows ?? []).ToLookup(r => r.Id);
            foreach (var a in acknowledged)
            {
                corrupted.AddRange(rows[a.Id].Where(r => r.Sha256 != a.Sha256 || r.Name != a.Name).Select(r => $"{a.Id}: row on {site.Site} says {r.Name} {r.Sha256}"));
                if (site.Files.TryGetValue(a.Id, out var fileSha) && fileSha != a.Sha256)
                {
                    corrupted.Add($"{a.Id}: file on SAN {site.Site} has sha256 {fileSha}");
                }
            }
        }

        corrupted.AddRange(workload.CorruptedReads.Select(id => $"{id}: a read through the gateway returned other bytes"));

        // A deposit whose answer was lost (timeout, 502 after the commit) may legitimately exist.
        var unacknowledgedPresent = database.Rows!.Count(r => workload.Sent.ContainsKey(r.Name) && !acknowledgedNames.Contains(r.Name));
        // A file without a row: a broker killed between writing the file and inserting the row (it never acknowledged).
        var orphanFiles = filestore.Files.Keys.Count(id => !survivingRows.Contains(id));
        var (replicaDatabase, replicaFilestore) = (sites.Single(s => s != database), sites.Single(s => s != filestore));
        var replica = $"database {replicaDatabase.Site}{(replicaDatabase.Rows is null ? " (does not answer)" : "")}, SAN {replicaFilestore.Site}";

        return new ConsistencyReport(
            workload.Sent.Count, acknowledged.Count, lost, unexpected, duplicated, corrupted, unacknowledgedPresent, orphanFiles,
            workload.Failures.Count(f => f.Request.StartsWith("deposit", StringComparison.Ordinal)),
            workload.Failures.Count(f => f.Request.StartsWith("read", StringComparison.Ordinal)),
            workload.Reads, workload.LongestWindowWithoutWrite(),
            $"database {database.Site}, SAN {filestore.Site}", replica, ReplicaBehind(acknowledged, replicaDatabase, replicaFilestore));
    }

    /// <summary>Acknowledged deposits the other database node (when it answers) or SAN does not hold (yet): replication lag, or the other site is down.</summary>
    private static List<string> ReplicaBehind(List<Acknowledgment> acknowledged, SiteContents database, SiteContents filestore)
    {
        var rows = database.Rows?.Select(r => r.Id).ToHashSet();
        return acknowledged
            .SelectMany(a => new[]
            {
                rows is null || rows.Contains(a.Id) ? null : $"{a.Id}: no row on {database.Site}",
                filestore.Files.ContainsKey(a.Id) ? null : $"{a.Id}: no file on SAN {filestore.Site}",
            })
            .OfType<string>()
            .ToList();
    }

    private static async Task<IReadOnlyList<Row>?> RowsAsync(PostgresNode node)
    {
        try
        {
            await using var connection = new NpgsqlConnection(node.ConnectionString("broker"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT id, name, sha256 FROM deposits", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<Row>();
            while (await reader.ReadAsync())
            {
                rows.Add(new Row(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
            }

            return rows;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Deposit files by id with their sha256; hidden temp files (a write in progress) aside.</summary>
    private static Dictionary<Guid, string> Files(string san)
    {
        var deposits = Path.Combine(san, "deposits");
        if (!Directory.Exists(deposits))
        {
            return [];
        }

        return Directory.EnumerateFiles(deposits)
            .Select(path => (Path: path, IsDeposit: Guid.TryParse(Path.GetFileName(path), out var id), Id: id))
            .Where(file => file.IsDeposit)
            .ToDictionary(file => file.Id, file => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file.Path))));
    }
}
