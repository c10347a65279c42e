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

    public DatabaseOptions Database { get; set; } = new();

    /// <summary>Where the gateway keeps its durable state (epoch, which node is primary, history); must survive restarts.</summary>
    public string StateDirectory { get; set; } = "";

    public AdminOptions Admin { get; set; } = new();

    public CoordinatorOptions Coordinator { get; set; } = new();

    public LimitsOptions Limits { get; set; } = new();

    public ObservabilityOptions Observability { get; set; } = new();

    /// <summary>Cluster mode through etcd; off (the gateway runs alone on its local state) while no etcd endpoint is set.</summary>
    public Gateway.Cluster.ClusterOptions Cluster { get; set; } = new();

    /// <summary>Consistent backups of the database and the filestore together (pgBackRest and restic); off until RepositoryPath is set.</summary>
    public Gateway.Backup.BackupOptions Backup { get; set; } = new();
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

    /// <summary>The node's data directory on this machine; needed only to rejoin it as a standby (pg_rewind or base backup).</summary>
    public string DataDirectory { get; set; } = "";

    public NodeCommandOptions Commands { get; set; } = new();
}

/// <summary>
/// Shell command templates for node-level work the gateway cannot do over SQL. Placeholders: {dataDir}, {host},
/// {port}, {sourceHost}, {sourcePort}, {user}, {pgBin}. The defaults drive a local PostgreSQL 15 through pg_ctl as
/// the postgres user, as the demo runs it; another deployment replaces them (ssh, systemctl, ...).
/// </summary>
public sealed class NodeCommandOptions
{
    public string Stop { get; set; } = "runuser -u postgres -- {pgBin}/pg_ctl -D {dataDir} -m fast -w -t 60 stop";

    public string Start { get; set; } = "runuser -u postgres -- {pgBin}/pg_ctl -D {dataDir} -o '-p {port}' -l {dataDir}.log -w -t 60 start";

    public string Rewind { get; set; } =
        "runuser -u postgres -- {pgBin}/pg_rewind -D {dataDir} --write-recovery-conf --source-server='host={sourceHost} port={sourcePort} user={user} dbname=postgres'";

    public string BaseBackup { get; set; } =
        "rm -rf {dataDir} && runuser -u postgres -- {pgBin}/pg_basebackup -h {sourceHost} -p {sourcePort} -U {user} -D {dataDir} -R -X stream -c fast";
}

public sealed class FilestoreOptions
{
    /// <summary>Symlinks the services write under; each points at the active site's SAN directory.</summary>
    public List<string> Links { get; set; } = [];

    /// <summary>How the active site's SAN is replicated to the other's (intervals, parallelism, deletes).</summary>
    public Gateway.Filestore.ReplicationOptions Replication { get; set; } = new();

    /// <summary>
    /// The file half of the joint RPO gate: an automatic failover needs at most this many files and bytes not yet on
    /// the other site's SAN (with Database:MaxLagOnFailover for the WAL). By default none: a deposit whose file would
    /// answer 404 after the failover is a loss, and with the source SAN readable the backlog empties within moments.
    /// </summary>
    public BacklogBound MaxBacklogOnFailover { get; set; } = new();
}

/// <summary>Files and bytes not yet replicated, at most.</summary>
public sealed class BacklogBound
{
    public int Files { get; set; }

    public long Bytes { get; set; }
}

/// <summary>What happens to the old primary once it answers again after an unplanned failover.</summary>
public enum RejoinAfterFailover
{
    /// <summary>It stays fenced until an operator rejoins it (POST /admin/database/rejoin): someone may want to look at what it had first.</summary>
    Manual,

    /// <summary>The gateway records what it had that the new primary lacks, then rebuilds it as a standby by itself.</summary>
    Auto,
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

    /// <summary>
    /// Consecutive 5xx answers before an instance leaves rotation (an instance failing every request at once would
    /// otherwise stay in, its probe path still answering); any other answer starts the count again; 0 turns this off.
    /// </summary>
    public int UnhealthyAfterConsecutive5xx { get; set; } = 5;

    /// <summary>How long an instance taken out by failed requests or 5xx answers stays out before active probes may bring it back.</summary>
    public TimeSpan PassiveReactivationPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class ListenerOptions
{
    public string PublicUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// PEM certificate (chain) for an https:// PublicUrl, with <see cref="PublicCertificateKey"/>. Both files are read
    /// again when either changes, for the next TLS handshake: renew them (rename over the old ones) without a restart.
    /// </summary>
    public string PublicCertificate { get; set; } = "";

    /// <summary>PEM private key (unencrypted PKCS#8 or PKCS#1) of <see cref="PublicCertificate"/>.</summary>
    public string PublicCertificateKey { get; set; } = "";

    public string AdminUrl { get; set; } = "http://127.0.0.1:8081";

    public string PgWriteEndpoint { get; set; } = "127.0.0.1:6432";

    public string PgReadEndpoint { get; set; } = "127.0.0.1:6433";
}

public enum SynchronousMode
{
    /// <summary>Commits are acknowledged by the primary alone; a failover may lose what the standby had not received (bounded by the RPO gate).</summary>
    Off,

    /// <summary>Commits wait for the standby; with the standby down, writes wait until it is back (no acknowledged write can be lost).</summary>
    Strict,

    /// <summary>Commits wait for the standby while it streams; with it down for DegradeAfter, the primary goes asynchronous and an alarm is raised.</summary>
    Degrade,
}

public sealed class DatabaseOptions
{
    /// <summary>Bound on opening the TCP connection to a database node, so a dead node fails a client fast instead of hanging it.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Client sessions per PG endpoint (write, read) at most; one more is refused with SQLSTATE 53300 too_many_connections.</summary>
    public int MaxConnectionsPerEndpoint { get; set; } = 100;

    /// <summary>A client of a PG endpoint must send its first protocol message (startup, SSL or cancel request) within this, or it is closed.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The role the gateway itself uses to observe, fence and promote the nodes (a superuser).</summary>
    public string Username { get; set; } = "postgres";

    /// <summary>File holding that role's password; GATEWAY_DB_PASSWORD takes precedence; neither means no password (trust or peer).</summary>
    public string PasswordFile { get; set; } = "";

    public TimeSpan ObserveInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan ObserveTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Promote the standby by itself when the primary has been unreachable for FailoverAfter.</summary>
    public bool AutoFailover { get; set; } = true;

    public TimeSpan FailoverAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The RPO gate: an automatic promotion is refused while the standby misses more WAL than this (bytes; Patroni's default).</summary>
    public long MaxLagOnFailover { get; set; } = 1024 * 1024;

    /// <summary>How long the standby may take to replay what it received before promotion.</summary>
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>New connections on the write endpoint wait this long for a primary during a switch, instead of failing.</summary>
    public TimeSpan HoldConnectionsFor { get; set; } = TimeSpan.FromSeconds(10);

    public SynchronousMode SynchronousMode { get; set; } = SynchronousMode.Off;

    /// <summary>After an unplanned failover: rejoin the old primary by itself once it answers (Auto), or leave it to an operator (Manual).</summary>
    public RejoinAfterFailover RejoinAfterFailover { get; set; } = RejoinAfterFailover.Manual;

    /// <summary>In Degrade mode: how long the standby may be away before the primary stops waiting for it.</summary>
    public TimeSpan DegradeAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Directory of the PostgreSQL server binaries, for the {pgBin} placeholder of node commands.</summary>
    public string BinDirectory { get; set; } = "/usr/lib/postgresql/15/bin";

    /// <summary>What the write endpoint does with open client sessions when the primary moves (see <see cref="PgSessionMode"/>).</summary>
    public PgSessionMode SessionMode { get; set; } = PgSessionMode.PassThrough;

    /// <summary>In Movable mode: how long a planned switch waits for a session to finish its transaction before ending it with an error.</summary>
    public TimeSpan SessionMoveTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

public enum PgSessionMode
{
    /// <summary>Sessions are forwarded byte for byte and cut when their node is fenced: clients reconnect.</summary>
    PassThrough,

    /// <summary>
    /// The write endpoint reads the protocol, and a switch moves each session to the new primary at its next
    /// transaction boundary, state and prepared statements included; TLS is not offered to clients in this mode.
    /// </summary>
    Movable,
}

public sealed class CoordinatorOptions
{
    /// <summary>Fail over to the other site by itself when the active site stays unhealthy for FailoverAfter.</summary>
    public bool AutoFailover { get; set; } = true;

    /// <summary>Flap damping: how long the active site must be unhealthy, without a break, before an automatic failover.</summary>
    public TimeSpan FailoverAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Flap damping: how long a site must be healthy, without a break, before it is trusted as a failover target.</summary>
    public TimeSpan RecoverAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A site with fewer healthy service instances than this is unhealthy.</summary>
    public int MinHealthyInstances { get; set; } = 1;

    public TimeSpan ObserveInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>New writes held during a site switch, at most; more get 503 with Retry-After.</summary>
    public int MaxHeldWrites { get; set; } = 1000;

    /// <summary>How long a write may be held during a site switch before it gets 503 with Retry-After.</summary>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a switch waits for in-flight writes to finish before it moves the database anyway.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a switch may spend replicating the filestore's remaining backlog before it flips the link.</summary>
    public TimeSpan FinalSyncDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Before a switch changes anything, how long it may wait for the target's SAN to catch up with the source's (file
    /// replication started towards it, its initial sync done, nothing pending); past it the switch is refused.
    /// </summary>
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A site not yet seen healthy since the gateway started is still starting (its instances come up after the
    /// gateway): it is failed over only once it has stayed unhealthy this long, not after FailoverAfter.
    /// </summary>
    public TimeSpan StartupGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A listing of a SAN directory unanswered for longer than this makes that SAN unresponsive (a hung mount), with an alarm.</summary>
    public TimeSpan SanProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Commands run before and after steps of a site switch (stop test servers, update DNS, page someone), in the order listed.</summary>
    public List<HookOptions> Hooks { get; set; } = [];
}

public enum HookWhen
{
    Before,
    After,
}

/// <summary>
/// One command run by /bin/sh -c before or after a step of a site switch, with GATEWAY_SWITCH_KIND, GATEWAY_FROM_SITE,
/// GATEWAY_TO_SITE, GATEWAY_EPOCH, GATEWAY_STEP and GATEWAY_HOOK_WHEN in its environment. Its exit code, duration and
/// the last 4 KiB of its output go into the switch's report. A failing Before hook aborts a planned switchover while
/// the database has not moved yet; every other failure is recorded and alarmed, and the switch goes on.
/// </summary>
public sealed class HookOptions
{
    /// <summary>A step id (persist-epoch, move-database, ..., or "switch" for the whole switch); see SwitchSteps.</summary>
    public string Step { get; set; } = "";

    public HookWhen? When { get; set; }

    public string Command { get; set; } = "";

    /// <summary>Past this the hook's whole process group is killed and the hook counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class AdminOptions
{
    /// <summary>File holding the bearer token for the admin API. The environment variable GATEWAY_ADMIN_TOKEN takes precedence.</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>Wrong or missing tokens one remote address may present within FailedAuthWindow before it gets 429 for the rest of the window.</summary>
    public int MaxFailedAuthAttempts { get; set; } = 10;

    /// <summary>The window failed attempts are counted in, starting at an address's first failure; a locked-out address waits for its end.</summary>
    public TimeSpan FailedAuthWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Admin requests are small JSON documents; a bigger body is refused with 413 before it is parsed.</summary>
    public int MaxRequestBodySize { get; set; } = 16 * 1024;
}

public enum OtlpProtocol
{
    /// <summary>OTLP over HTTP with protobuf bodies (usually port 4318); traces are posted to the endpoint's /v1/traces.</summary>
    HttpProtobuf,

    /// <summary>OTLP over gRPC (usually port 4317).</summary>
    Grpc,
}

public sealed class ObservabilityOptions
{
    /// <summary>Base URL of an OpenTelemetry collector (http://127.0.0.1:4318); traces are exported only when it is set. Metrics are always at the admin listener's /metrics.</summary>
    public string OtlpEndpoint { get; set; } = "";

    public OtlpProtocol OtlpProtocol { get; set; } = OtlpProtocol.HttpProtobuf;

    /// <summary>
    /// Per-request metrics and spans of the public listener (gateway_requests_total, gateway_request_duration_seconds, the "proxy" span). On by default;
    /// off removes their middleware from the pipeline, to measure what they cost (bench/proxy) or to shed that cost.
    /// Gauges, database, filestore and switch metrics stay.
    /// </summary>
    public bool RequestTelemetry { get; set; } = true;

    /// <summary>
    /// Share of proxied requests without a sampled caller trace whose spans are exported (0 to 1). Exporting every
    /// request costs about 15 % of the proxy's throughput (bench/RESULTS.md); a caller's sampled traceparent is always
    /// followed, and failovers are always traced.
    /// </summary>
    public double TraceSampleRatio { get; set; } = 0.1;
}

/// <summary>Explicit limits for the public listener (Kestrel's defaults are generous and implicit).</summary>
public sealed class LimitsOptions
{
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>All request headers together, names and values, in bytes.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>Deposits carry whole files; 64 MiB by default.</summary>
    public long MaxRequestBodySize { get; set; } = 64L * 1024 * 1024;

    /// <summary>From a connection's first byte of a request to the end of its headers: a client trickling its headers (slowloris) is cut off after this.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A request body arriving slower than this (bytes per second, after the grace period) is cut off, so a slow upload cannot hold a connection and an instance forever.</summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>How long a request body may arrive slower than MinRequestBodyDataRate (Kestrel checks once a second, so it must be more than 1 s).</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an idle connection (no request in progress) stays open.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Open connections of the public host at most: HTTP and the PostgreSQL endpoints together (one Kestrel server). More are closed at once.</summary>
    public long MaxConcurrentConnections { get; set; } = 10_000;
}
