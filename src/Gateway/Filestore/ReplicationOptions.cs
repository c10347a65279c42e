using Gateway.Configuration;

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
    /// <summary>How often a full scan compares both sides by size and modification time, repairing whatever change events missed.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a reconcile also compares the SHA-256 of files whose size and time agree (it reads both sides whole).</summary>
    public TimeSpan ChecksumInterval { get; set; } = TimeSpan.FromHours(24);

    public DeletePolicy Deletes { get; set; } = DeletePolicy.Propagate;

    /// <summary>Files replicated at the same time.</summary>
    public int MaxParallelCopies { get; set; } = 4;

    /// <summary>First wait before a failed copy (target full, unwritable, gone) is tried again; it doubles up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the initial full sync logs its progress.</summary>
    public TimeSpan ProgressLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Files whose name matches this pattern (* and ?) are writes still in progress under a temp name, as the broker
    /// writes them (.name.tmp, then a rename): they are not replicated, their final name is. Empty replicates everything.
    /// </summary>
    public string InProgressFilePattern { get; set; } = ".*.tmp";

    /// <summary>
    /// Deletes propagated in any minute, at most; the next one trips the breaker and every delete is held until an
    /// operator releases them (POST /admin/filestore/release-deletes). 0: no limit.
    /// </summary>
    public int MaxDeletesPerMinute { get; set; } = 1000;

    public const int MaxParallelCopiesLimit = 64;

    /// <summary>Every rule these settings must satisfy, each problem named by its full key under <paramref name="sectionKey"/>.</summary>
    public IEnumerable<ConfigurationError> Validate(string sectionKey)
    {
        // Timers take at most about 49 days, and Polly's retry delays at most one day.
        var longestTimer = TimeSpan.FromDays(30);
        var longestRetryWait = TimeSpan.FromDays(1);
        foreach (var (name, value, longest) in new[]
                 {
                     (nameof(ReconcileInterval), ReconcileInterval, longestTimer), (nameof(ChecksumInterval), ChecksumInterval, TimeSpan.MaxValue),
                     (nameof(RetryBaseDelay), RetryBaseDelay, longestRetryWait), (nameof(RetryMaxDelay), RetryMaxDelay, longestRetryWait),
                     (nameof(ProgressLogInterval), ProgressLogInterval, longestTimer),
                 })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new($"{sectionKey}:{name}", $"{value} must be greater than zero");
            }
            else if (value > longest)
            {
                yield return new($"{sectionKey}:{name}", $"{value} must be at most {longest}");
            }
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return new($"{sectionKey}:{nameof(RetryMaxDelay)}", $"{RetryMaxDelay} must not be shorter than RetryBaseDelay ({RetryBaseDelay})");
        }

        if (MaxParallelCopies is < 1 or > MaxParallelCopiesLimit)
        {
            yield return new($"{sectionKey}:{nameof(MaxParallelCopies)}", $"{MaxParallelCopies} must be between 1 and {MaxParallelCopiesLimit}");
        }

        if (MaxDeletesPerMinute < 0)
        {
            yield return new($"{sectionKey}:{nameof(MaxDeletesPerMinute)}", $"{MaxDeletesPerMinute} must be 0 (no limit) or more");
        }

        if (!Enum.IsDefined(Deletes))
        {
            yield return new($"{sectionKey}:{nameof(Deletes)}", $"'{Deletes}' is not one of {string.Join(", ", Enum.GetNames<DeletePolicy>())}");
        }

        if (InProgressFilePattern.Contains('/'))
        {
            yield return new($"{sectionKey}:{nameof(InProgressFilePattern)}", $"'{InProgressFilePattern}' is matched against file names and must not contain '/'");
        }
    }
}
