namespace Gateway.Testing;

/// <summary>
/// Where a test process runs on the network: inside a network namespace (null: the test's own) and the address it
/// listens on there. The fixtures start PostgreSQL and brokers through <see cref="Command"/>, so the same code runs them
/// on loopback or inside a site's namespace (see <see cref="TwoSiteNetwork"/>).
/// </summary>
public sealed record NetworkPlacement(string? Namespace, string Address)
{
    public static NetworkPlacement Loopback { get; } = new(null, "127.0.0.1");

    public bool IsLoopback => Namespace is null && Address == Loopback.Address;

    /// <summary>The command line that runs <paramref name="fileName"/> here: as is, or behind `ip netns exec`.</summary>
    public (string FileName, IReadOnlyList<string> Arguments) Command(string fileName, IEnumerable<string> arguments) =>
        Namespace is null ? (fileName, [.. arguments]) : ("ip", ["netns", "exec", Namespace, fileName, .. arguments]);

    public override string ToString() => Namespace is null ? Address : $"{Address} in namespace {Namespace}";
}
