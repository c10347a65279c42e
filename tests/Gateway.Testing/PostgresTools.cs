namespace Gateway.Testing;

/// <summary>Where the PostgreSQL 15 server binaries live (Debian's layout), overridable with PG_BIN.</summary>
public static class PostgresTools
{
    public static string BinDirectory { get; } =
        Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";
}
