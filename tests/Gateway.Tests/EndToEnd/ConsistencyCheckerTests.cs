using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The checker must be able to say no: after a clean run, damage the primary's table and SAN the way a broken
/// failover would, one deposit per kind of damage, and each shows up under its own name. Its own system, because the
/// checker counts every row it did not send as unexpected.
/// </summary>
[Integration]
public sealed class ConsistencyCheckerTests(TwoSiteSystem system, ITestOutputHelper output) : IClassFixture<TwoSiteSystem>
{
    [Fact]
    public async Task A_clean_run_is_clean_and_a_deleted_row_or_file_a_changed_file_or_row_a_stranger_and_a_twin_are_each_reported()
    {
        await using var workload = new DepositWorkload(system.Gateway.Public, "checked");
        await workload.RunForAsync(TimeSpan.FromSeconds(2));

        var clean = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings);
        output.WriteLine(clean.ToString());
        Assert.True(clean.IsClean, $"{clean}; {clean.Details()}");
        Assert.True(clean.Acknowledged >= 10, $"only {clean.Acknowledged} deposits acknowledged");

        var victims = workload.Acknowledged.Take(5).ToArray();
        var deposits = Path.Combine(system.Settings.SanA, "deposits");
        await ExecuteOnPrimaryAsync($"DELETE FROM deposits WHERE id = '{victims[0].Id}'");
        File.Delete(Path.Combine(deposits, victims[1].Id.ToString()));
        await File.WriteAllTextAsync(Path.Combine(deposits, victims[2].Id.ToString()), "not what was sent");
        await ExecuteOnPrimaryAsync($"UPDATE deposits SET sha256 = 'bad' WHERE id = '{victims[3].Id}'");
        await ExecuteOnPrimaryAsync($"INSERT INTO deposits (id, name, size, sha256, served_by) VALUES (gen_random_uuid(), '{victims[4].Name}', 1, 'x', 'test')");
        await ExecuteOnPrimaryAsync("INSERT INTO deposits (id, name, size, sha256, served_by) VALUES (gen_random_uuid(), 'never-sent', 1, 'x', 'test')");

        var damaged = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings);
        output.WriteLine(damaged.ToString());
        output.WriteLine(damaged.Details());
        Assert.False(damaged.IsClean);
        Assert.Contains(damaged.Lost, l => l.StartsWith($"{victims[0].Id} ({victims[0].Name}): no row on A", StringComparison.Ordinal));
        Assert.Contains(damaged.Lost, l => l.StartsWith($"{victims[1].Id} ({victims[1].Name}): no file on SAN A", StringComparison.Ordinal));
        Assert.Contains(damaged.Corrupted, c => c.StartsWith($"{victims[2].Id}: file on SAN A", StringComparison.Ordinal));
        Assert.Contains(damaged.Corrupted, c => c.StartsWith($"{victims[3].Id}: row on A", StringComparison.Ordinal));
        Assert.Contains(damaged.Duplicated, d => d.StartsWith($"{victims[4].Name} x2 on A", StringComparison.Ordinal));
        Assert.Contains(damaged.Unexpected, u => u.StartsWith("never-sent", StringComparison.Ordinal));
    }

    private Task ExecuteOnPrimaryAsync(string sql) => system.Postgres.Primary.ExecuteAsync(sql, "broker");
}
