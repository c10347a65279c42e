using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Filestore;

/// <summary>What happens on the target when a file or directory disappears from the source.</summary>
public enum DeletePolicy
{
    /// <summary>The target follows: the entry is deleted there too (a mirror).</summary>
    Propagate,

    /// <summary>The target keeps it (an archive that only grows); renames then leave the old name behind as well.</summary>
    Keep,
}

/// <summary>SAN replication settings: the <c>Gateway:Filestore:Replication</c> section.</summary>
public sealed class ReplicationOptions
{
    public const int MaxParallelCopiesLimit = 64;

    // Timers take at most about 49 days, and Polly's retry delays at most one day: hence the MaxDays bounds.

    /// <summary>How often a full scan compares both sides by size and modification time, repairing whatever change events missed.</summary>
    [Positive(MaxDays = 30)]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a reconcile also compares the SHA-256 of files whose size and time agree (it reads both sides whole).</summary>
    [Positive]
    public TimeSpan ChecksumInterval { get; set; } = TimeSpan.FromHours(24);

    [Defined]
    public DeletePolicy Deletes { get; set; } = DeletePolicy.Propagate;

    /// <summary>Files replicated at the same time.</summary>
    [AtLeast(1, Maximum = MaxParallelCopiesLimit)]
    public int MaxParallelCopies { get; set; } = 4;

    /// <summary>First wait before a failed copy (target full, unwritable, gone) is tried again; it doubles up to <see cref="RetryMaxDelay"/>.</summary>
    [Positive(MaxDays = 1)]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    [Positive(MaxDays = 1)]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the initial full sync logs its progress.</summary>
    [Positive(MaxDays = 30)]
    public TimeSpan ProgressLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Files whose name matches this pattern (* and ?) are writes still in progress under a temp name, as the broker
    /// writes them (.name.tmp, then a rename): they are not replicated, their final name is. Empty replicates everything.
    /// </summary>
    [FileNamePattern]
    public string InProgressFilePattern { get; set; } = ".*.tmp";

    /// <summary>
    /// Deletes propagated in any minute, at most; the next one trips the breaker and every delete is held until an
    /// operator releases them (POST /admin/filestore/release-deletes). 0: no limit.
    /// </summary>
    [AtLeast(0, Requirement = "must be 0 (no limit) or more")]
    public int MaxDeletesPerMinute { get; set; } = 1000;

}

/// <summary>A file-name pattern: matched against names, never paths.</summary>
public sealed class FileNamePatternAttribute : OptionRuleAttribute
{
    protected override string? Problem(object? value) =>
        value is string pattern && pattern.Contains('/') ? $"'{pattern}' is matched against file names and must not contain '/'" : null;
}

/// <summary>The per-field rules of <see cref="ReplicationOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class ReplicationOptionsValidator : IValidateOptions<ReplicationOptions>
{
}

/// <summary>The retry delays together: the back-off grows from the base to the maximum, never shrinks.</summary>
public sealed class ReplicationOptionsRules : IValidateOptions<ReplicationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicationOptions options) =>
        (options.RetryMaxDelay < options.RetryBaseDelay
            ? [new ConfigurationError($"{name ?? "Gateway:Filestore:Replication"}:{nameof(ReplicationOptions.RetryMaxDelay)}", $"{options.RetryMaxDelay} must not be shorter than RetryBaseDelay ({options.RetryBaseDelay})")]
            : Array.Empty<ConfigurationError>()).ToResult();
}
