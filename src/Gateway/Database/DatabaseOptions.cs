using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Database;

public enum SynchronousMode
{
    /// <summary>Commits are acknowledged by the primary alone; a failover may lose what the standby had not received (bounded by the RPO gate).</summary>
    Off,

    /// <summary>Commits wait for the standby; with the standby down, writes wait until it is back (no acknowledged write can be lost).</summary>
    Strict,

    /// <summary>Commits wait for the standby while it streams; with it down for DegradeAfter, the primary goes asynchronous and an alarm is raised.</summary>
    Degrade,
}

/// <summary>What happens to the old primary once it answers again after an unplanned failover.</summary>
public enum RejoinAfterFailover
{
    /// <summary>It stays fenced until an operator rejoins it (POST /admin/database/rejoin): someone may want to look at what it had first.</summary>
    Manual,

    /// <summary>The gateway records what it had that the new primary lacks, then rebuilds it as a standby by itself.</summary>
    Auto,
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

/// <summary>The PostgreSQL endpoints and the database supervisor: the <c>Gateway:Database</c> section.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Bound on opening the TCP connection to a database node, so a dead node fails a client fast instead of hanging it.</summary>
    [Positive]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Client sessions per PG endpoint (write, read) at most; one more is refused with SQLSTATE 53300 too_many_connections.</summary>
    [AtLeast(1)]
    public int MaxConnectionsPerEndpoint { get; set; } = 100;

    /// <summary>A client of a PG endpoint must send its first protocol message (startup, SSL or cancel request) within this, or it is closed.</summary>
    [Positive]
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The role the gateway itself uses to observe, fence and promote the nodes (a superuser).</summary>
    [RequiredValue]
    public string Username { get; set; } = "postgres";

    /// <summary>File holding that role's password; GATEWAY_DB_PASSWORD takes precedence; neither means no password (trust or peer).</summary>
    public string PasswordFile { get; set; } = "";

    [Positive]
    public TimeSpan ObserveInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Positive]
    public TimeSpan ObserveTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Promote the standby by itself when the primary has been unreachable for FailoverAfter.</summary>
    public bool AutoFailover { get; set; } = true;

    [Positive]
    public TimeSpan FailoverAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The RPO gate: an automatic promotion is refused while the standby misses more WAL than this (bytes; Patroni's default).</summary>
    [AtLeast(0, Requirement = "must not be negative (bytes)")]
    public long MaxLagOnFailover { get; set; } = 1024 * 1024;

    /// <summary>How long the standby may take to replay what it received before promotion.</summary>
    [Positive]
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>New connections on the write endpoint wait this long for a primary during a switch, instead of failing.</summary>
    [Positive]
    public TimeSpan HoldConnectionsFor { get; set; } = TimeSpan.FromSeconds(10);

    [Defined]
    public SynchronousMode SynchronousMode { get; set; } = SynchronousMode.Off;

    /// <summary>After an unplanned failover: rejoin the old primary by itself once it answers (Auto), or leave it to an operator (Manual).</summary>
    [Defined]
    public RejoinAfterFailover RejoinAfterFailover { get; set; } = RejoinAfterFailover.Manual;

    /// <summary>In Degrade mode: how long the standby may be away before the primary stops waiting for it.</summary>
    [Positive]
    public TimeSpan DegradeAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Directory of the PostgreSQL server binaries, for the {pgBin} placeholder of node commands.</summary>
    public string BinDirectory { get; set; } = "/usr/lib/postgresql/15/bin";

    /// <summary>What the write endpoint does with open client sessions when the primary moves (see <see cref="PgSessionMode"/>).</summary>
    [Defined]
    public PgSessionMode SessionMode { get; set; } = PgSessionMode.PassThrough;

    /// <summary>Where the PG endpoints run the code after each socket read or write (see <see cref="PgEndpointScheduling"/>).</summary>
    [Defined]
    public PgEndpointScheduling EndpointScheduling { get; set; } = PgEndpointScheduling.Inline;

    /// <summary>In Movable mode: how long a planned switch waits for a session to finish its transaction before ending it with an error.</summary>
    [Positive]
    public TimeSpan SessionMoveTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The per-field rules of <see cref="DatabaseOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
}

/// <summary>The rules of <see cref="DatabaseOptions"/> across fields and on the file system.</summary>
public sealed class DatabaseOptionsRules : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var key = name ?? "Gateway:Database";
        var errors = new List<ConfigurationError>();
        if (options.SessionMoveTimeout >= options.HoldConnectionsFor)
        {
            // New write connections wait while a planned switch lets open sessions finish their transactions.
            errors.Add(new($"{key}:SessionMoveTimeout", $"{options.SessionMoveTimeout} must be shorter than {key}:HoldConnectionsFor ({options.HoldConnectionsFor}), or new connections give up while sessions finish"));
        }

        if (options.PasswordFile.Length > 0
            && PathRules.SecretFilePath(options.PasswordFile, $"{key}:PasswordFile", errors) is { } passwordFile
            && !File.Exists(passwordFile))
        {
            errors.Add(new($"{key}:PasswordFile", $"password file '{passwordFile}' does not exist"));
        }

        return errors.ToResult();
    }
}
