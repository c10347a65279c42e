using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>One member of an <see cref="EtcdCluster"/>: its own process, ports and data directory.</summary>
public sealed class EtcdMember
{
    private Process? _process;

    internal EtcdMember(string name, NetworkPlacement placement, int clientPort, int peerPort, string dataDirectory)
    {
        Name = name;
        Placement = placement;
        ClientPort = clientPort;
        PeerPort = peerPort;
        DataDirectory = dataDirectory;
    }

    public string Name { get; }
    public NetworkPlacement Placement { get; }
    public int ClientPort { get; }
    public int PeerPort { get; }
    public string DataDirectory { get; }
    public string ClientUrl => $"http://{Placement.Address}:{ClientPort}";
    public string PeerUrl => $"http://{Placement.Address}:{PeerPort}";
    public string LogFile => DataDirectory + ".log";
    public bool IsRunning => _process is { HasExited: false };
    public int? ProcessId => IsRunning ? _process!.Id : null;

    internal void Launch(string initialCluster, string clusterToken)
    {
        RealParts.Starting($"etcd member {Name}");
        if (IsRunning)
        {
            throw new InvalidOperationException($"etcd member {Name} is already running");
        }

        // Through sh so that the member's output goes to its log file without a reader in this process; exec keeps the
        // process id etcd's own, so SIGKILL and SIGSTOP reach etcd itself. In a namespace, `ip netns exec` execs too.
        string[] etcd =
        [
            "etcd", "--name", Name, "--data-dir", DataDirectory,
            "--listen-client-urls", ClientUrl, "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", PeerUrl, "--initial-advertise-peer-urls", PeerUrl,
            "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", clusterToken,
            // etcd's defaults (100 ms heartbeat, 1 s election timeout) suit loopback; said here so a test's timing does
            // not depend on an environment variable from the developer's shell.
            "--heartbeat-interval", "100", "--election-timeout", "1000",
            // Pre-vote (off by default in etcd 3.4): a member coming back from a partition must not depose the leader
            // with its higher term, which leaves the cluster without a leader for a moment and fences every gateway.
            "--pre-vote",
            "--logger", "zap", "--log-outputs", "stderr",
        ];
        var (fileName, arguments) = Placement.Command("sh", ["-c", "exec \"$@\" >>\"$LOG\" 2>&1", "etcd", .. etcd]);
        var startInfo = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["LOG"] = LogFile;
        // etcd reads every flag from ETCD_* too: a developer's setting must not reconfigure the member under test.
        foreach (var inherited in startInfo.Environment.Keys.Where(key => key.StartsWith("ETCD", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        _process?.Dispose();
        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start etcd member {Name}");
    }

    /// <summary>SIGKILL: what a crashed host looks like to the other members and to clients.</summary>
    public void Kill()
    {
        if (IsRunning)
        {
            Resume();
            _process!.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>SIGSTOP: the member keeps its sockets open (connections succeed) but answers nothing.</summary>
    public void Pause()
    {
        if (IsRunning)
        {
            ProcessSignals.Stop(_process!.Id);
        }
    }

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        if (IsRunning)
        {
            ProcessSignals.Continue(_process!.Id);
        }
    }

    internal string LogTail()
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogFile).TakeLast(15));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public override string ToString() => $"{Name} ({ClientUrl})";
}

/// <summary>
/// A real etcd cluster of one or three members (Debian's etcd-server, installed by deploy/prereqs.sh), each its own
/// process with its own data directory under a temporary directory, on free ports, on loopback or each in a given
/// network namespace. A test can kill, pause (SIGSTOP) or restart a member; disposing kills every member and deletes
/// the data.
/// </summary>
/// <example>
/// <code>
/// await using var etcd = await EtcdCluster.StartAsync(3);
/// var endpoints = etcd.ClientUrls;         // ["http://127.0.0.1:41234", ...]
/// etcd.Members[0].Kill();                  // kill -9
/// await etcd.RestartAsync(0);              // same data directory, rejoins the cluster
/// </code>
/// </example>
public sealed class EtcdCluster : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<string?> Unavailability = new(ProbeUnavailability);

    private readonly string _root;
    private readonly string _initialCluster;
    private readonly string _token;

    private EtcdCluster(string root, IReadOnlyList<EtcdMember> members, string token)
    {
        _root = root;
        Members = members;
        _token = token;
        _initialCluster = string.Join(',', members.Select(m => $"{m.Name}={m.PeerUrl}"));
    }

    public IReadOnlyList<EtcdMember> Members { get; }

    public IReadOnlyList<string> ClientUrls => [.. Members.Select(m => m.ClientUrl)];

    /// <summary>Why etcd cannot run here (not installed), or null when it can.</summary>
    public static string? WhyUnavailable => Unavailability.Value;

    /// <summary>Starts <paramref name="size"/> members on loopback and waits until the cluster answers a linearizable read.</summary>
    public static Task<EtcdCluster> StartAsync(int size = 1) =>
        StartAsync([.. Enumerable.Repeat(NetworkPlacement.Loopback, size)]);

    /// <summary>Starts one member per placement (loopback, or a network namespace and its address), and waits for quorum.</summary>
    public static async Task<EtcdCluster> StartAsync(IReadOnlyList<NetworkPlacement> placements)
    {
        if (WhyUnavailable is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        var root = Directory.CreateTempSubdirectory("gateway-etcd-").FullName;
        var members = placements
            .Select((placement, i) => new EtcdMember($"m{i + 1}", placement, FreePort.Next(), FreePort.Next(), Path.Combine(root, $"m{i + 1}")))
            .ToList();
        var cluster = new EtcdCluster(root, members, $"gateway-test-{Path.GetFileName(root)}");
        try
        {
            foreach (var member in members)
            {
                member.Launch(cluster._initialCluster, cluster._token);
            }

            await cluster.WaitHealthyAsync(StartTimeout);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a killed member again with its data directory: it rejoins the cluster it was part of.</summary>
    public Task RestartAsync(int index)
    {
        Members[index].Launch(_initialCluster, _token);
        return WaitMemberAnswersAsync(Members[index], StartTimeout);
    }

    /// <summary>Waits until a linearizable read through the running members succeeds (there is a leader and a quorum).</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var running = Members.Where(m => m.IsRunning).Select(m => m.ClientUrl).ToList();
        string lastError = "";
        while (deadline.Elapsed < timeout)
        {
            var exited = Members.FirstOrDefault(m => !m.IsRunning && running.Contains(m.ClientUrl));
            if (exited is not null)
            {
                throw new InvalidOperationException($"etcd member {exited} exited while starting:\n{exited.LogTail()}");
            }

            try
            {
                await EtcdctlAsync(running, "get", "--consistency=l", "/gateway-test-health");
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                lastError = e.Message;
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"etcd cluster {string.Join(", ", running)} was not healthy within {timeout.TotalSeconds:0} s: {lastError}\n"
            + string.Join('\n', Members.Select(m => $"--- {m}:\n{m.LogTail()}")));
    }

    private static async Task WaitMemberAnswersAsync(EtcdMember member, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // Serializable: the member answers from its own store, so this tells it is up even without a quorum.
                await EtcdctlAsync([member.ClientUrl], "get", "--consistency=s", "/gateway-test-health");
                return;
            }
            catch (Exception e) when ((e is InvalidOperationException or TimeoutException) && deadline.Elapsed < timeout && member.IsRunning)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Makes <paramref name="member"/> etcd's leader (`etcdctl move-leader`, sent to the current leader) and returns its name.</summary>
    public async Task<string> MoveLeaderAsync(EtcdMember member)
    {
        using var statuses = System.Text.Json.JsonDocument.Parse(await EtcdctlAsync("endpoint", "status", "-w", "json"));
        var members = statuses.RootElement.EnumerateArray()
            .Select(e => (Endpoint: e.GetProperty("Endpoint").GetString()!, Id: e.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64(),
                Leader: e.GetProperty("Status").GetProperty("leader").GetUInt64()))
            .ToList();
        var leader = members.Single(m => m.Id == m.Leader);
        var target = members.Single(m => m.Endpoint == member.ClientUrl);
        if (leader.Id != target.Id)
        {
            await EtcdctlAsync([leader.Endpoint], "move-leader", target.Id.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        await WaitHealthyAsync(TimeSpan.FromSeconds(10));
        using var after = System.Text.Json.JsonDocument.Parse(await EtcdctlAsync("endpoint", "status", "-w", "json"));
        var now = after.RootElement.EnumerateArray().First().GetProperty("Status").GetProperty("leader").GetUInt64();
        return Members.Single(m => members.Single(x => x.Id == now).Endpoint == m.ClientUrl).Name;
    }

    /// <summary>Runs etcdctl (API v3) against the given endpoints, or all members; returns its standard output.</summary>
    public Task<string> EtcdctlAsync(params string[] arguments) => EtcdctlAsync(ClientUrls, arguments);

    public static Task<string> EtcdctlAsync(IReadOnlyList<string> endpoints, params string[] arguments) =>
        ProcessRunner.RunAsync("etcdctl", ["--endpoints", string.Join(',', endpoints), "--command-timeout=3s", "--dial-timeout=2s", .. arguments],
            TimeSpan.FromSeconds(10));

    /// <summary>Kills every member (SIGCONT first, for a paused one) and deletes the data directories.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var member in Members)
        {
            member.Kill();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A member's file still open by a process being reaped: the temp directory is cleaned by the OS later.
        }

        return ValueTask.CompletedTask;
    }

    private static string? ProbeUnavailability()
    {
        foreach (var tool in new[] { "etcd", "etcdctl" })
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Any(directory => directory.Length > 0 && File.Exists(Path.Combine(directory, tool)));
            if (!found)
            {
                return $"{tool} is not installed (deploy/prereqs.sh etcd-server etcd-client installs it; tests/run.sh does)";
            }
        }

        return null;
    }
}
