namespace Gateway.Testing;

/// <summary>One site's network: a namespace joined to the test's (root) namespace by a veth pair on its own /30.</summary>
public sealed record SiteNetwork(string Site, string Namespace, string RootInterface, string SiteInterface, string RootAddress, string SiteAddress)
{
    /// <summary>Where this site's processes run: in its namespace, listening on its end of the veth pair.</summary>
    public NetworkPlacement Placement => new(Namespace, SiteAddress);
}

/// <summary>
/// Two sites, each in its own network namespace joined to the root namespace (where the test and the gateway run) by a
/// veth pair: site A on 10.201.1.0/30, site B on 10.201.2.0/30 (root .1, site .2). The gateway's database endpoints
/// listen on <see cref="GatewayAddress"/>, a /32 on root's loopback device that each site reaches over its own veth,
/// so cutting a site's veth cuts that site off the gateway, and nothing listens outside this machine. With ip_forward on,
/// A and B reach each other through root (streaming replication), which is where the partition between them is cut.
/// </summary>
/// <remarks>
/// Needs root and iproute2 only (no netfilter tools): cuts are a policy-routing blackhole (forwarded packets dropped
/// silently, as on a cut WAN link) and a veth taken down on the site's side (root's packets dropped silently by the
/// veth, the site's own see no route). One network per machine at a time, since the subnets are fixed; the names carry
/// the owning process id (gwt-{pid}-a), so a run killed before its clean-up is cleaned up by the next one.
/// </remarks>
public sealed class TwoSiteNetwork : IAsyncDisposable
{
    public const string GatewayAddress = "10.201.0.1";
    private const string NamePrefix = "gwt-";
    private const string InterfacePrefix = "gwt";
    private const string IpForward = "/proc/sys/net/ipv4/ip_forward";

    // ip_forward as it was before the first network, kept on disk so that a run killed before its clean-up does not
    // leave this machine forwarding: the next run puts it back.
    private static readonly string IpForwardBefore = Path.Combine(Path.GetTempPath(), "gwt-ip_forward-before");

    // Both directions of the partition share one priority, so a clean-up can delete them without knowing the addresses.
    private const string PartitionRulePriority = "4201";

    private static readonly Lazy<string?> Unavailability = new(ProbeUnavailability);
    private readonly string _previousIpForward;
    private bool _sitesPartitioned;

    private TwoSiteNetwork(SiteNetwork a, SiteNetwork b, string previousIpForward)
    {
        A = a;
        B = b;
        _previousIpForward = previousIpForward;
    }

    public SiteNetwork A { get; }
    public SiteNetwork B { get; }

    /// <summary>Why this machine cannot build the network (not root, no `ip netns`, no policy routing), or null when it can.</summary>
    public static string? WhyUnavailable => Unavailability.Value;

    public static async Task<TwoSiteNetwork> CreateAsync()
    {
        if (WhyUnavailable is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        await RemoveLeftoversAsync();
        var previousIpForward = (await File.ReadAllTextAsync(IpForward)).Trim();
        await File.WriteAllTextAsync(IpForwardBefore, previousIpForward);
        var network = new TwoSiteNetwork(Site("A", 1), Site("B", 2), previousIpForward);
        try
        {
            await Ip("addr", "add", $"{GatewayAddress}/32", "dev", "lo");
            await network.JoinAsync(network.A);
            await network.JoinAsync(network.B);
            await File.WriteAllTextAsync(IpForward, "1");
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>Cuts the link between the sites (both directions); each still reaches the gateway and the gateway each.</summary>
    public async Task PartitionSitesAsync()
    {
        _sitesPartitioned = true;
        foreach (var (from, to) in new[] { (A, B), (B, A) })
        {
            await Ip("rule", "add", "from", from.SiteAddress, "to", to.SiteAddress, "blackhole", "priority", PartitionRulePriority);
        }
    }

    public async Task HealSitesAsync()
    {
        foreach (var (from, to) in new[] { (A, B), (B, A) })
        {
            await Ip("rule", "del", "from", from.SiteAddress, "to", to.SiteAddress, "blackhole", "priority", PartitionRulePriority);
        }

        _sitesPartitioned = false;
    }

    /// <summary>
    /// Cuts a site off everything else (the gateway and the other site) by taking its end of the veth down: packets to it
    /// vanish without an answer, as on a dead link, while its processes keep running.
    /// </summary>
    public Task IsolateAsync(SiteNetwork site) => Ip("-n", site.Namespace, "link", "set", site.SiteInterface, "down");

    /// <summary>Brings the site's link back, and its default route, which the kernel dropped with the link.</summary>
    public async Task ReconnectAsync(SiteNetwork site)
    {
        await Ip("-n", site.Namespace, "link", "set", site.SiteInterface, "up");
        await Ip("-n", site.Namespace, "route", "replace", "default", "via", site.RootAddress);
    }

    /// <summary>
    /// Removes the namespaces (the processes in them must be stopped first: a namespace lives on while a process uses it),
    /// the partition rules and the gateway address, and puts ip_forward back as it was.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_sitesPartitioned)
        {
            await BestEffortAsync(HealSitesAsync);
        }

        foreach (var site in new[] { A, B })
        {
            await BestEffortAsync(() => Ip("netns", "del", site.Namespace));
        }

        await BestEffortAsync(() => Ip("addr", "del", $"{GatewayAddress}/32", "dev", "lo"));
        await BestEffortAsync(() => File.WriteAllTextAsync(IpForward, _previousIpForward));
        File.Delete(IpForwardBefore);
    }

    private static SiteNetwork Site(string id, int subnet)
    {
        var owner = Environment.ProcessId;
        var letter = id.ToLowerInvariant();
        // Interface names have at most 15 characters: gwt + a pid of up to 7 digits + site + r/s.
        return new(id, $"{NamePrefix}{owner}-{letter}", $"{InterfacePrefix}{owner}{letter}r", $"{InterfacePrefix}{owner}{letter}s",
            $"10.201.{subnet}.1", $"10.201.{subnet}.2");
    }

    private async Task JoinAsync(SiteNetwork site)
    {
        await Ip("netns", "add", site.Namespace);
        await Ip("link", "add", site.RootInterface, "type", "veth", "peer", "name", site.SiteInterface, "netns", site.Namespace);
        await Ip("addr", "add", $"{site.RootAddress}/30", "dev", site.RootInterface);
        await Ip("link", "set", site.RootInterface, "up");
        await Ip("-n", site.Namespace, "link", "set", "lo", "up");
        await Ip("-n", site.Namespace, "addr", "add", $"{site.SiteAddress}/30", "dev", site.SiteInterface);
        await Ip("-n", site.Namespace, "link", "set", site.SiteInterface, "up");
        await Ip("-n", site.Namespace, "route", "add", "default", "via", site.RootAddress);
    }

    /// <summary>
    /// Namespaces of runs whose process is gone (killed, or a crashed test host): their processes are killed and the
    /// namespaces, partition rules and gateway address removed, and ip_forward put back, so this run's addresses and
    /// routes are the only ones.
    /// </summary>
    private static async Task RemoveLeftoversAsync()
    {
        var leftovers = (await Ip("netns", "list"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith(NamePrefix, StringComparison.Ordinal))
            .ToList();
        foreach (var name in leftovers)
        {
            var owner = name[NamePrefix.Length..].Split('-')[0];
            if (int.TryParse(owner, out var pid) && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}"))
            {
                throw new InvalidOperationException(
                    $"network namespace {name} belongs to the running process {pid}: only one two-site network per machine at a time");
            }

            foreach (var process in (await Ip("netns", "pids", name)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await BestEffortAsync(() => ProcessRunner.RunAsync("kill", ["-9", process.Trim()]));
            }

            await BestEffortAsync(() => Ip("netns", "del", name));
        }

        while ((await Ip("rule", "list", "priority", PartitionRulePriority)).Trim().Length > 0)
        {
            await Ip("rule", "del", "priority", PartitionRulePriority);
        }

        if (File.Exists(IpForwardBefore))
        {
            await File.WriteAllTextAsync(IpForward, await File.ReadAllTextAsync(IpForwardBefore));
            File.Delete(IpForwardBefore);
        }

        if ((await Ip("-o", "addr", "show", "dev", "lo")).Contains($" {GatewayAddress}/32 ", StringComparison.Ordinal))
        {
            await Ip("addr", "del", $"{GatewayAddress}/32", "dev", "lo");
        }

        // A namespace goes (and its veth with it) once its last process has died. A process of an earlier run may
        // outlive the namespace's name (deleted, so `ip netns pids` no longer finds it): deleting the root-side end of
        // each old veth pair removes both ends whatever still holds the namespace.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (LeftoverDevices(await Ip("-o", "link", "show")) is { Count: > 0 } devices)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"interfaces of an earlier run are still there after 10 s: {await Ip("-o", "link", "show")}");
            }

            foreach (var device in devices)
            {
                await BestEffortAsync(() => Ip("link", "del", device));
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The root-side interfaces of earlier runs in an `ip -o link show` listing ("52: gwt123br@if2: ..." gives "gwt123br").</summary>
    private static List<string> LeftoverDevices(string links) =>
        links.Split('\n')
            .Select(line => line.Split(' ').ElementAtOrDefault(1)?.TrimEnd(':').Split('@')[0])
            .OfType<string>()
            .Where(device => device.StartsWith(InterfacePrefix, StringComparison.Ordinal))
            .ToList();

    /// <summary>Builds and removes a namespace and a policy rule once: only trying tells whether this process may.</summary>
    private static string? ProbeUnavailability()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root to create network namespaces (tests/run.sh runs as root)";
        }

        var probe = $"{NamePrefix}{Environment.ProcessId}-probe";
        try
        {
            Ip("netns", "add", probe).GetAwaiter().GetResult();
            Ip("netns", "del", probe).GetAwaiter().GetResult();
            Ip("rule", "add", "from", "10.201.255.1", "to", "10.201.255.2", "blackhole", "priority", "4209").GetAwaiter().GetResult();
            Ip("rule", "del", "from", "10.201.255.1", "to", "10.201.255.2", "blackhole", "priority", "4209").GetAwaiter().GetResult();
            return null;
        }
        catch (Exception refused)
        {
            return $"network namespaces or policy routing are not available here (`ip netns add`, `ip rule add ... blackhole`): {refused.Message.Trim()}";
        }
    }

    private static Task<string> Ip(params string[] arguments) => ProcessRunner.RunAsync("ip", arguments, TimeSpan.FromSeconds(10));

    private static async Task BestEffortAsync(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            // Clean-up goes on with the next piece: what could not be removed is removed by the next run's RemoveLeftoversAsync.
        }
    }
}
