namespace Gateway.Configuration;

/// <summary>The whole gateway configuration: the "Gateway" section of the config file, overridable by environment variables (Gateway__ActiveSite=B).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The site that takes writes and holds the primary database at start.</summary>
    public string ActiveSite { get; set; } = "";

    public List<SiteOptions> Sites { get; set; } = [];

    public FilestoreOptions Filestore { get; set; } = new();

    public RoutingOptions Routing { get; set; } = new();

    public ListenerOptions Listeners { get; set; } = new();

    public DatabaseEndpointOptions Database { get; set; } = new();

    public AdminOptions Admin { get; set; } = new();

    public LimitsOptions Limits { get; set; } = new();
}

public sealed class SiteOptions
{
    public string Id { get; set; } = "";

    public List<InstanceOptions> Instances { get; set; } = [];

    public DatabaseNodeOptions Database { get; set; } = new();

    /// <summary>This site's SAN directory, the replica the filestore links point at while the site is active.</summary>
    public string SanPath { get; set; } = "";
}

public sealed class InstanceOptions
{
    public string Id { get; set; } = "";

    public string Url { get; set; } = "";
}

public sealed class DatabaseNodeOptions
{
    public string Host { get; set; } = "";

    public int Port { get; set; } = 5432;
}

public sealed class FilestoreOptions
{
    /// <summary>Symlinks the services write under; each points at the active site's SAN directory.</summary>
    public List<string> Links { get; set; } = [];
}

public enum WritePolicy
{
    /// <summary>Writes go to the active site while it has a healthy instance, otherwise to the other site.</summary>
    Prefer,

    /// <summary>Writes go to the active site only; with none healthy there they are refused (503).</summary>
    Require,
}

public sealed class RoutingOptions
{
    public WritePolicy WritePolicy { get; set; } = WritePolicy.Prefer;

    public HealthCheckOptions HealthCheck { get; set; } = new();

    /// <summary>
    /// Host names the public listener answers to; empty accepts any. (Empty rather than ["*"] by default because the
    /// configuration binder appends to a list's initial items instead of replacing them.)
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];
}

public sealed class HealthCheckOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    public string Path { get; set; } = "/healthz";

    /// <summary>Consecutive failed probes before an instance leaves rotation.</summary>
    public int UnhealthyAfterProbeFailures { get; set; } = 2;

    /// <summary>Consecutive failed proxied requests (connection refused, reset, timeout) before an instance leaves rotation.</summary>
    public int UnhealthyAfterRequestFailures { get; set; } = 1;

    /// <summary>How long an instance taken out by request failures stays out before active probes may bring it back.</summary>
    public TimeSpan PassiveReactivationPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class ListenerOptions
{
    public string PublicUrl { get; set; } = "http://127.0.0.1:8080";

    public string AdminUrl { get; set; } = "http://127.0.0.1:8081";

    public string PgWriteEndpoint { get; set; } = "127.0.0.1:6432";

    public string PgReadEndpoint { get; set; } = "127.0.0.1:6433";
}

public sealed class DatabaseEndpointOptions
{
    /// <summary>Bound on opening the TCP connection to a database node, so a dead node fails a client fast instead of hanging it.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class AdminOptions
{
    /// <summary>File holding the bearer token for the admin API. The environment variable GATEWAY_ADMIN_TOKEN takes precedence.</summary>
    public string TokenFile { get; set; } = "";
}

/// <summary>Explicit limits for the public listener (Kestrel's defaults are generous and implicit).</summary>
public sealed class LimitsOptions
{
    public int MaxRequestHeaderCount { get; set; } = 64;

    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>Deposits carry whole files; 64 MiB by default.</summary>
    public long MaxRequestBodySize { get; set; } = 64L * 1024 * 1024;

    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public long MaxConcurrentConnections { get; set; } = 10_000;
}
