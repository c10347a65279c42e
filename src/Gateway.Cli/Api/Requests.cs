namespace Gateway.Cli.Api;

// Request bodies, exactly as the gateway reads them: it refuses unknown fields, so absent optional ones are left out
// (AdminJson ignores nulls when writing) rather than sent as null.

public sealed record SiteTarget(string To);

public sealed record ForcibleSiteTarget(string To, bool Force);

public sealed record RejoinBody(string Site, RejoinMethod Method);

/// <summary>Drain or undrain: exactly one of the two is set.</summary>
public sealed record DrainTarget(string? Site, string? Instance);

/// <summary>An empty JSON object, for operations that take no arguments (failback).</summary>
public sealed record NoArguments;

public enum RejoinMethod
{
    /// <summary>pg_rewind, and a fresh base backup if that fails.</summary>
    Auto,
    Rewind,
    BaseBackup,
}

/// <summary>POST /admin/pause: why, and for how long (the gateway's time span format, hh:mm:ss).</summary>
public sealed record PauseBody(string Reason, string For);
