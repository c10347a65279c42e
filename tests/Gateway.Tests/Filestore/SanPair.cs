using System.Security.Cryptography;
using Gateway.Filestore;
using Gateway.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Filestore;

/// <summary>Two SAN directories (A, the source, and B) under a fresh temp directory, and what a test needs to run a replicator between them.</summary>
public sealed class SanPair : IDisposable
{
    public SanPair()
    {
        Directory.CreateDirectory(SanA);
        Directory.CreateDirectory(SanB);
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("filestore-test-").FullName;

    public string SanA => Path.Combine(Root, "san-a");

    public string SanB => Path.Combine(Root, "san-b");

    public ReplicationDirection AToB => new("A", SanA, "B", SanB);

    /// <summary>Options for tests: no periodic reconcile unless a test asks (so change events alone are under test), short retries.</summary>
    public static ReplicationOptions Options(Action<ReplicationOptions>? adjust = null)
    {
        var options = new ReplicationOptions
        {
            ReconcileInterval = TimeSpan.FromDays(1),
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        };
        adjust?.Invoke(options);
        return options;
    }

    /// <summary>The pair's ledger, on disk under <see cref="Root"/>, shared by every replicator this pair starts (as the gateway shares it).</summary>
    public ReplicaLedger Ledger => _ledger ??= ReplicaLedger.Open(Path.Combine(Root, "state"), "A-B");

    private ReplicaLedger? _ledger;

    public FilestoreReplicator Start(
        ReplicationOptions? options = null, TimeProvider? time = null, ReplicationDirection? direction = null, ILogger<FilestoreReplicator>? logger = null)
    {
        var replicator = new FilestoreReplicator(
            direction ?? AToB, options ?? Options(), time ?? TimeProvider.System, logger ?? NullLogger<FilestoreReplicator>.Instance, Ledger);
        replicator.Start();
        return replicator;
    }

    public string A(string relative) => Path.Combine(SanA, relative);

    public string B(string relative) => Path.Combine(SanB, relative);

    public void Dispose()
    {
        _ledger?.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>
/// An independent oracle for "B equals A": every name under a root with "dir", "link:target" or the SHA-256 of the
/// file. Leaves out only the replicator's temp files (".name.id.repl-tmp"), which the replica contract hides.
/// </summary>
public static class TreeFingerprint
{
    public static SortedDictionary<string, string> Of(string root)
    {
        var fingerprint = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var info in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            var relative = Path.GetRelativePath(root, info.FullName);
            if (info.Name.EndsWith(".repl-tmp", StringComparison.Ordinal))
            {
                continue;
            }

            fingerprint[relative] = info switch
            {
                { LinkTarget: { } link } => "link:" + link,
                DirectoryInfo => "dir",
                _ => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(info.FullName))),
            };
        }

        return fingerprint;
    }

    /// <summary>Every path whose fingerprint differs, for an assertion message.</summary>
    public static string Diff(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        var lines = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Where(path => expected.GetValueOrDefault(path) != actual.GetValueOrDefault(path))
            .Select(path => $"  {path}: A {Short(expected.GetValueOrDefault(path))}, B {Short(actual.GetValueOrDefault(path))}")
            .ToList();
        return lines.Count == 0 ? "(none)" : string.Join('\n', lines.Take(40)) + (lines.Count > 40 ? $"\n  ... and {lines.Count - 40} more" : "");
    }

    private static string Short(string? value) => value is null ? "missing" : value.Length > 16 ? value[..16] : value;
}

/// <summary>Waits for a condition the system reaches by itself. The bound is for liveness (a hung test must end), never a speed claim.</summary>
public static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static async Task HoldsAsync(Func<bool> condition, Func<string> describeFailure, TimeSpan? within = null)
    {
        if (!await ReachedAsync(condition, within ?? Patience))
        {
            Assert.Fail($"not reached within {within ?? Patience}: {describeFailure()}");
        }
    }

    /// <summary>Whether the condition came true within <paramref name="within"/>, for a test that handles both outcomes.</summary>
    public static async Task<bool> ReachedAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>Waits until B is a replica of A by the oracle, then asserts it (with the differences on failure).</summary>
    public static async Task ReplicatedAsync(SanPair sans, FilestoreReplicator replicator, string context = "")
    {
        SortedDictionary<string, string> a = [], b = [];
        await HoldsAsync(
            () =>
            {
                try
                {
                    a = TreeFingerprint.Of(sans.SanA);
                    b = TreeFingerprint.Of(sans.SanB);
                    return a.Count == b.Count && a.SequenceEqual(b);
                }
                catch (Exception vanished) when (vanished is FileNotFoundException or DirectoryNotFoundException)
                {
                    // Deleted or moved by the replicator while it was read: look again.
                    return false;
                }
            },
            () => $"{context} B differs from A:\n{TreeFingerprint.Diff(a, b)}\nstatus: {replicator.Status}");
    }
}

/// <summary>A small tmpfs mounted for one test (root only), to stand for a full disk or a second file system.</summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    /// <summary>Why no tmpfs can be mounted here (not root, or root without the right to mount, as in many containers), or null when it can.</summary>
    public static string? WhyUnavailable => Unavailability.Value;

    private static readonly Lazy<string?> Unavailability = new(ProbeMount);

    public static async Task<TmpfsMount> MountAsync(string path, string size)
    {
        Assert.True(Environment.IsPrivilegedProcess,
            "this test mounts a tmpfs (a small file system standing for a full disk) and must run as root, as tests/run.sh does");
        Directory.CreateDirectory(path);
        await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", path]);
        return new TmpfsMount(path);
    }

    /// <summary>Frees space the way an operator would: a bigger file system under the same path, contents kept.</summary>
    public Task ResizeAsync(string size) => RemountAsync($"size={size}");

    /// <summary>Changes the mount's options in place (e.g. "ro", "rw"), contents kept.</summary>
    public Task RemountAsync(string options) => ProcessRunner.RunAsync("mount", ["-o", $"remount,{options}", Path]);

    public async ValueTask DisposeAsync() => await ProcessRunner.RunAsync("umount", ["--lazy", Path]);

    /// <summary>Mounts and unmounts a tiny tmpfs once: only trying tells whether this process may mount.</summary>
    private static string? ProbeMount()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root to mount a tmpfs (tests/run.sh runs as root)";
        }

        var probe = Directory.CreateTempSubdirectory("tmpfs-probe-").FullName;
        try
        {
            ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).GetAwaiter().GetResult();
            ProcessRunner.RunAsync("umount", [probe]).GetAwaiter().GetResult();
            return null;
        }
        catch (Exception refused)
        {
            return $"mount -t tmpfs is not permitted here: {refused.Message.Trim()}";
        }
        finally
        {
            Directory.Delete(probe);
        }
    }
}

/// <summary>A test that mounts a tmpfs: reported as skipped, with the reason, where mounting is not permitted; never passed without running.</summary>
[Xunit.Sdk.TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
public sealed class TmpfsFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public TmpfsFactAttribute()
    {
        if (TmpfsMount.WhyUnavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
