namespace Gateway.Cli;

/// <summary>
/// What scripts can rely on. A refused operation (1) and an unreachable gateway (3) are kept apart because the
/// first means the gateway looked and said no, the second that nothing was asked of it at all.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The gateway refused the request or the operation ran and failed (the report says why).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: unknown command, missing or malformed option. Nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The gateway could not be reached or did not accept the admin token. Nothing was changed.</summary>
    public const int Unreachable = 3;

    /// <summary>Ctrl+C. An operation already sent goes on inside the gateway; only the waiting stopped.</summary>
    public const int Interrupted = 130;
}
