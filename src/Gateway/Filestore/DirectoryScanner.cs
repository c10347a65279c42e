using System.IO.Enumeration;

namespace Gateway.Filestore;

/// <summary>
/// Reads a replica tree (or one subtree of it) into a <see cref="DirectorySnapshot"/>, without following symlinks.
/// Entries that vanish while the scan runs are simply not in it; a missing or unreadable root is an error, because
/// an empty snapshot of a source that is not there would read as "delete everything".
/// </summary>
internal static class DirectoryScanner
{
    private static readonly EnumerationOptions OneLevel = new()
    {
        RecurseSubdirectories = false,
        // The default skips Hidden, which on Unix means every name starting with a dot.
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        ReturnSpecialDirectories = false,
    };

    /// <summary>Scans <paramref name="root"/>/<paramref name="subtree"/> ("" for all of it); paths in the snapshot are relative to <paramref name="root"/>.</summary>
    public static DirectorySnapshot Scan(string root, string subtree, ReplicaScope scope, CancellationToken cancellation)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"directory '{root}' does not exist");
        }

        var entries = new Dictionary<string, ReplicaEntry>(StringComparer.Ordinal);
        var tempFiles = new List<string>();
        var pending = new Stack<string>();
        pending.Push(subtree);
        while (pending.TryPop(out var directory))
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (var (name, entry) in List(Path.Join(root, directory), mayVanish: directory.Length > 0))
            {
                var path = directory.Length == 0 ? name : $"{directory}/{name}";
                if (ReplicaScope.IsReplicaTempName(name))
                {
                    tempFiles.Add(path);
                }
                else if (scope.IncludesName(name))
                {
                    entries[path] = entry;
                    if (entry.Kind == EntryKind.Directory)
                    {
                        pending.Push(path);
                    }
                }
            }
        }

        return new DirectorySnapshot(entries, tempFiles);
    }

    /// <summary>lstat of one path: null when nothing is there.</summary>
    public static ReplicaEntry? Read(string path)
    {
        FileAttributes attributes;
        try
        {
            attributes = File.GetAttributes(path);
        }
        catch (Exception absent) when (absent is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            return new FileInfo(path).LinkTarget is { } linkTarget ? ReplicaEntry.Symlink(linkTarget) : null;
        }

        if (attributes.HasFlag(FileAttributes.Directory))
        {
            return ReplicaEntry.Directory;
        }

        var file = new FileInfo(path);
        return file.Exists ? ReplicaEntry.File(file.Length, file.LastWriteTimeUtc) : null;
    }

    private static List<(string Name, ReplicaEntry Entry)> List(string directory, bool mayVanish)
    {
        try
        {
            return new FileSystemEnumerable<(string, ReplicaEntry)>(directory, Describe, OneLevel).ToList();
        }
        catch (DirectoryNotFoundException) when (mayVanish)
        {
            // Deleted while the scan was under way, or a subtree that is not there: it holds nothing, which is what the snapshot says.
            return [];
        }
    }

    private static (string, ReplicaEntry) Describe(ref FileSystemEntry entry)
    {
        var name = entry.FileName.ToString();
        if (entry.Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            return (name, ReplicaEntry.Symlink(new FileInfo(entry.ToFullPath()).LinkTarget ?? ""));
        }

        return entry.IsDirectory
            ? (name, ReplicaEntry.Directory)
            : (name, ReplicaEntry.File(entry.Length, entry.LastWriteTimeUtc.UtcDateTime));
    }
}
