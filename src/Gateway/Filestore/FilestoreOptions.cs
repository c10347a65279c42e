using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Filestore;

/// <summary>The filestore links and their replication: the <c>Gateway:Filestore</c> section.</summary>
public sealed class FilestoreOptions
{
    /// <summary>Symlinks the services write under; each points at the active site's SAN directory.</summary>
    public List<string> Links { get; set; } = [];

    /// <summary>How the active site's SAN is replicated to the other's (intervals, parallelism, deletes).</summary>
    [ValidateObjectMembers(typeof(ReplicationOptionsValidator))]
    public ReplicationOptions Replication { get; set; } = new();

    /// <summary>
    /// The file half of the joint RPO gate: an automatic failover needs at most this many files and bytes not yet on
    /// the other site's SAN (with Database:MaxLagOnFailover for the WAL). By default none: a deposit whose file would
    /// answer 404 after the failover is a loss, and with the source SAN readable the backlog empties within moments.
    /// </summary>
    [ValidateObjectMembers]
    public BacklogBound MaxBacklogOnFailover { get; set; } = new();
}

/// <summary>Files and bytes not yet replicated, at most.</summary>
public sealed class BacklogBound
{
    [AtLeast(0, Requirement = "must not be negative")]
    public int Files { get; set; }

    [AtLeast(0, Requirement = "must not be negative")]
    public long Bytes { get; set; }
}

/// <summary>The per-field rules of <see cref="FilestoreOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class FilestoreOptionsValidator : IValidateOptions<FilestoreOptions>
{
}

/// <summary>
/// The section's rules across fields and on the file system: the replication's own (<see cref="ReplicationOptionsRules"/>),
/// and the links, each an absolute path, used once, an existing symlink the gateway can replace atomically, pointing at
/// one of the sites' SAN directories (<paramref name="sanDirectories"/>, as configured).
/// </summary>
public sealed class FilestoreOptionsRules(IEnumerable<string> sanDirectories) : IValidateOptions<FilestoreOptions>
{
    public ValidateOptionsResult Validate(string? name, FilestoreOptions options)
    {
        var section = name ?? "Gateway:Filestore";
        var linksKey = $"{section}:Links";
        var errors = new ReplicationOptionsRules().Check($"{section}:Replication", options.Replication).ToList();
        if (options.Links.Count == 0)
        {
            errors.Add(new(linksKey, "at least one filestore link is required"));
        }

        var sans = sanDirectories
            .Where(path => Path.IsPathFullyQualified(path) && Directory.Exists(path))
            .Select(path => PathRules.CanonicalDirectory(Path.GetFullPath(path)))
            .ToHashSet(StringComparer.Ordinal);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var l = 0; l < options.Links.Count; l++)
        {
            var key = $"{linksKey}:{l}";
            if (PathRules.AbsolutePath(options.Links[l], key, errors) is { } link)
            {
                PathRules.RequireUnique(link, key, "filestore link", seen, errors);
                CheckLink(link, key, sans, errors);
            }
        }

        return errors.ToResult();
    }

    private static void CheckLink(string link, string key, HashSet<string> sanDirectories, List<ConfigurationError> errors)
    {
        var info = new FileInfo(link);
        if (!info.Exists && !Directory.Exists(link) && info.LinkTarget is null)
        {
            errors.Add(new(key, $"'{link}' does not exist; create it as a symlink to the active site's SanPath (ln -s <SanPath> {link})"));
            return;
        }

        if (info.LinkTarget is null)
        {
            errors.Add(new(key, $"'{link}' is not a symlink; the gateway flips the filestore by replacing a symlink atomically"));
            return;
        }

        var target = Path.GetFullPath(info.LinkTarget, Path.GetDirectoryName(link)!);
        if (!Directory.Exists(target))
        {
            errors.Add(new(key, $"'{link}' points at '{info.LinkTarget}', which is not a directory"));
        }
        else if (sanDirectories.Count > 0 && !sanDirectories.Contains(PathRules.CanonicalDirectory(target)))
        {
            errors.Add(new(key, $"'{link}' points at '{info.LinkTarget}', which is neither site's SanPath"));
        }
    }
}
