using System.IO.Enumeration;

namespace Gateway.Filestore;

/// <summary>
/// Which names belong to the replica. Left out: the replicator's own temp files (a copy in progress on the target)
/// and files still being written under a temp name on the source (<see cref="ReplicationOptions.InProgressFilePattern"/>).
/// </summary>
public sealed class ReplicaScope(string inProgressFilePattern)
{
    private const string TempSuffix = ".repl-tmp";

    // Enough of the original name to recognise it in a listing, short enough that the temp name fits NAME_MAX (255 bytes) in UTF-8.
    private const int TempNameKeeps = 40;

    public static ReplicaScope Default { get; } = new(new ReplicationOptions().InProgressFilePattern);

    public static ReplicaScope For(ReplicationOptions options) => new(options.InProgressFilePattern);

    /// <summary>True for every path that is replicated: no segment is a temp name of either kind.</summary>
    public bool Includes(string relativePath) => relativePath.Split('/').All(IncludesName);

    public bool IncludesName(string name) => !IsReplicaTempName(name) && !IsInProgress(name);

    /// <summary>A copy to the target is written under this hidden name beside its final name, then renamed into place.</summary>
    public static string TempNameFor(string fileName) =>
        $".{fileName[..Math.Min(fileName.Length, TempNameKeeps)]}.{Guid.NewGuid():N}{TempSuffix}";

    public static bool IsReplicaTempName(string name) => name.StartsWith('.') && name.EndsWith(TempSuffix, StringComparison.Ordinal);

    private bool IsInProgress(string name) =>
        inProgressFilePattern.Length > 0 && FileSystemName.MatchesSimpleExpression(inProgressFilePattern, name, ignoreCase: false);
}
