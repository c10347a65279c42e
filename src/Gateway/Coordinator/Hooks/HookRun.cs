using Gateway.Configuration;

namespace Gateway.Coordinator.Hooks;

/// <summary>
/// One hook as it ran, for the switch's report: where it ran, what it ran, how it ended (exit code, or killed at its
/// timeout), the last 4 KiB of its output, and what its failure meant for the switch (null when it succeeded).
/// </summary>
public sealed record HookRun(
    string Step,
    HookWhen When,
    string Command,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    int? ExitCode,
    bool TimedOut,
    string Output,
    string Result,
    string? Consequence)
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOutResult = "timed_out";

    public static readonly IReadOnlyList<string> Results = [Succeeded, Failed, TimedOutResult];
}
