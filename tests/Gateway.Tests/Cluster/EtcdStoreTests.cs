using Gateway.Cluster;
using Gateway.Testing;
using static Gateway.Tests.Cluster.EtcdTestSupport;

namespace Gateway.Tests.Cluster;

/// <summary>EtcdStore against one real etcd member: reads with revisions, guarded writes, identity, watches.</summary>
[Integration]
public sealed class EtcdStoreTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync()
    {
        if (EtcdCluster.WhyUnavailable is null)
        {
            _etcd = await EtcdCluster.StartAsync(1);
        }
    }

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    [EtcdFact]
    public async Task A_guarded_write_made_from_an_old_revision_is_refused_with_the_current_value()
    {
        using var store = await ConnectAsync(Options(_etcd.ClientUrls, UniqueName("cas")));
        var first = await store.TransactAsync([Guard.Absent("state/epoch")], [Mutation.Put("state/epoch", "1")], CancellationToken.None);
        Assert.True(first.Succeeded);
        var read = await store.ReadKeyAsync("state/epoch", CancellationToken.None);
        Assert.Equal(first.Revision, read!.ModRevision);

        var second = await store.TransactAsync([Guard.Unchanged("state/epoch", read.ModRevision)], [Mutation.Put("state/epoch", "2")], CancellationToken.None);
        Assert.True(second.Succeeded);

        // Decided from the first read, which is stale now: refused, and told what the key holds.
        var stale = await store.TransactAsync([Guard.Unchanged("state/epoch", read.ModRevision)], [Mutation.Put("state/epoch", "3")], CancellationToken.None);
        Assert.False(stale.Succeeded);
        Assert.Equal("2", stale.CurrentOf("state/epoch")!.Value);
        Assert.Equal(second.Revision, stale.CurrentOf("state/epoch")!.ModRevision);
        Assert.Equal("2", (await store.ReadKeyAsync("state/epoch", CancellationToken.None))!.Value);

        // Create-if-absent on a key that exists is a conflict too.
        var again = await store.TransactAsync([Guard.Absent("state/epoch")], [Mutation.Put("state/epoch", "9")], CancellationToken.None);
        Assert.False(again.Succeeded);
        Assert.Equal("2", again.CurrentOf("state/epoch")!.Value);
    }

    [EtcdFact]
    public async Task A_range_guard_refuses_a_write_when_any_key_under_the_prefix_changed_after_the_revision_read()
    {
        using var store = await ConnectAsync(Options(_etcd.ClientUrls, UniqueName("range")));
        await store.TransactAsync([], [Mutation.Put("state/a", "1"), Mutation.Put("state/b", "1")], CancellationToken.None);
        var snapshot = await store.ReadPrefixAsync("state/", CancellationToken.None);
        Assert.Equal(["state/a", "state/b"], snapshot.Keys.Select(k => k.Key));

        Assert.True((await store.TransactAsync([Guard.NothingChangedSince("state/", snapshot.Revision)], [Mutation.Put("state/a", "2")], CancellationToken.None)).Succeeded);
        Assert.False((await store.TransactAsync([Guard.NothingChangedSince("state/", snapshot.Revision)], [Mutation.Put("state/b", "2")], CancellationToken.None)).Succeeded);
        Assert.Equal("1", (await store.ReadKeyAsync("state/b", CancellationToken.None))!.Value);
    }

    [EtcdFact]
    public async Task An_empty_prefix_is_claimed_and_the_same_cluster_is_recognised_afterwards()
    {
        var name = UniqueName("identity");
        using (var first = await ConnectAsync(Options(_etcd.ClientUrls, name)))
        {
            Assert.Equal($"/gateway/{name}/", first.Prefix);
        }

        var meta = await _etcd.EtcdctlAsync("get", "--print-value-only", $"/gateway/{name}/meta");
        Assert.Contains($"\"cluster\":\"{name}\"", meta, StringComparison.Ordinal);
        Assert.Contains("\"schema\":1", meta, StringComparison.Ordinal);
        using var second = await ConnectAsync(Options(_etcd.ClientUrls, name, "gw-b"));
        Assert.Contains("is cluster", await second.EnsureIdentityAsync(CancellationToken.None), StringComparison.Ordinal);
    }

    [EtcdFact]
    public async Task A_prefix_of_another_cluster_a_newer_schema_or_foreign_keys_is_refused_with_a_clear_message()
    {
        var name = UniqueName("foreign");
        await _etcd.EtcdctlAsync("put", $"/gateway/{name}/meta", """{"cluster":"payments","schema":1}""");
        var other = await Assert.ThrowsAsync<ClusterIdentityException>(() => ConnectAsync(Options(_etcd.ClientUrls, name)));
        Assert.Contains("holds the state of cluster 'payments'", other.Message, StringComparison.Ordinal);

        var newer = UniqueName("newer");
        await _etcd.EtcdctlAsync("put", $"/gateway/{newer}/meta", $$"""{"cluster":"{{newer}}","schema":2}""");
        var schema = await Assert.ThrowsAsync<ClusterIdentityException>(() => ConnectAsync(Options(_etcd.ClientUrls, newer)));
        Assert.Contains("schema 2, newer than this gateway's 1", schema.Message, StringComparison.Ordinal);

        var stray = UniqueName("stray");
        await _etcd.EtcdctlAsync("put", $"/gateway/{stray}/state/epoch", "7");
        var foreign = await Assert.ThrowsAsync<ClusterIdentityException>(() => ConnectAsync(Options(_etcd.ClientUrls, stray)));
        Assert.Contains("holds keys but no identity key", foreign.Message, StringComparison.Ordinal);
        // Refused means untouched: no identity key was written over the stray state.
        Assert.Equal("", (await _etcd.EtcdctlAsync("get", "--print-value-only", $"/gateway/{stray}/meta")).Trim());
    }

    [EtcdFact]
    public async Task A_watch_delivers_every_change_after_the_revision_read_in_order()
    {
        using var store = await ConnectAsync(Options(_etcd.ClientUrls, UniqueName("watch")));
        await store.TransactAsync([], [Mutation.Put("state/epoch", "0")], CancellationToken.None);
        var snapshot = await store.ReadPrefixAsync("state/", CancellationToken.None);
        // Written before the watch starts but after the read: the watch must still deliver them.
        await store.TransactAsync([], [Mutation.Put("state/epoch", "1")], CancellationToken.None);
        await store.TransactAsync([], [Mutation.Put("state/active", "B"), Mutation.Put("state/epoch", "2")], CancellationToken.None);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<(string Key, string Value, bool Deleted, long Revision)>();
        var writer = Task.Run(async () =>
        {
            await Task.Delay(200);
            await store.TransactAsync([], [Mutation.Delete("state/active")], CancellationToken.None);
            await store.TransactAsync([], [Mutation.Put("state/epoch", "3")], CancellationToken.None);
        });
        await foreach (var batch in store.WatchAsync("state/", snapshot.Revision, stop.Token))
        {
            seen.AddRange(batch.Changes.Select(c => (c.Key.Key, c.Key.Value, c.Deleted, c.Key.ModRevision)));
            if (seen.Count == 5)
            {
                break;
            }
        }

        await writer;
        Assert.Equal(
            [("state/epoch", "1", false), ("state/active", "B", false), ("state/epoch", "2", false), ("state/active", "", true), ("state/epoch", "3", false)],
            seen.Select(s => (s.Key, s.Value, s.Deleted)));
        Assert.Equal(seen.Select(s => s.Revision).Order(), seen.Select(s => s.Revision));
    }

    [EtcdFact]
    public async Task A_lease_keeps_its_keys_while_renewed_and_a_revoke_deletes_them()
    {
        using var store = await ConnectAsync(Options(_etcd.ClientUrls, UniqueName("lease")));
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.True(grant.Ttl >= TimeSpan.FromSeconds(2), $"granted {grant.Ttl}");
        await store.TransactAsync([], [Mutation.Put("members/gw-a", "{}", grant.Id)], CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            await Task.Delay(700);
            var renewal = await store.RenewLeaseAsync(grant.Id, TimeSpan.FromSeconds(1), CancellationToken.None);
            Assert.Equal(grant.Ttl, renewal.Ttl);
        }

        Assert.Equal(grant.Id, (await store.ReadKeyAsync("members/gw-a", CancellationToken.None))!.Lease);
        await store.RevokeLeaseAsync(grant.Id, CancellationToken.None);
        Assert.Null(await store.ReadKeyAsync("members/gw-a", CancellationToken.None));
        await Assert.ThrowsAsync<LeaseLostException>(() => store.RenewLeaseAsync(grant.Id, TimeSpan.FromSeconds(1), CancellationToken.None));
        await Assert.ThrowsAsync<LeaseLostException>(() => store.TransactAsync([], [Mutation.Put("members/gw-a", "{}", grant.Id)], CancellationToken.None));
    }

    [Fact]
    public async Task With_no_endpoint_answering_the_start_fails_within_the_startup_timeout_naming_every_endpoint()
    {
        int[] ports = [FreePort.Next(), FreePort.Next()];
        var options = Options(ports.Select(p => $"http://127.0.0.1:{p}"), "nobody");
        options.StartupTimeout = TimeSpan.FromSeconds(2);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<EtcdUnavailableException>(() => ConnectAsync(options));
        clock.Stop();
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(7));
        foreach (var port in ports)
        {
            Assert.Contains($"http://127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        }

        Assert.Contains("within 2 s", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>etcd's own authentication, switched on in a real member: the password comes from its file and never shows.</summary>
public sealed class EtcdAuthenticationTests
{
    [EtcdFact]
    public async Task A_user_with_a_password_file_is_let_in_and_a_wrong_password_is_refused_without_being_shown()
    {
        await using var etcd = await EtcdCluster.StartAsync(1);
        const string password = "Corr3ct-Horse";
        await etcd.EtcdctlAsync("user", "add", $"root:{password}");
        await etcd.EtcdctlAsync("auth", "enable");
        var directory = Directory.CreateTempSubdirectory("gateway-etcd-auth-").FullName;
        try
        {
            var passwordFile = Path.Combine(directory, "password");
            await File.WriteAllTextAsync(passwordFile, password + "\n");
            var options = Options(etcd.ClientUrls, UniqueName("auth"));
            options.Etcd.Username = "root";
            options.Etcd.PasswordFile = passwordFile;
            using (var store = await ConnectAsync(options))
            {
                Assert.True((await store.TransactAsync([Guard.Absent("state/epoch")], [Mutation.Put("state/epoch", "1")], CancellationToken.None)).Succeeded);
            }

            await File.WriteAllTextAsync(passwordFile, "Wr0ng-Horse\n");
            var refused = await Assert.ThrowsAsync<EtcdRefusedException>(() => ConnectAsync(options));
            Assert.Contains("authentication failed", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Wr0ng-Horse", refused.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
