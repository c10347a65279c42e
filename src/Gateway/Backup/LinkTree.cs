using System.Runtime.InteropServices;

namespace Gateway.Backup;

/// <summary>What a pass changed: files linked anew, entries removed, files already linked, directories read.</summary>
public sealed record LinkTreeRefresh(int Linked, int Removed, int Unchanged, int Directories)
{
    public override string ToString() => $"{Linked} linked, {Removed} removed, {Unchanged} unchanged in {Directories} directories";
}

/// <summary>
/// A hard-link image of a directory tree, made exact by inode: made once before the hold (like cp -al, writes
/// flowing), then refreshed during it, where a file the replicator replaced (by rename: a new inode) is linked
/// again, one it deleted is removed, and one still linked is left alone. The refresh reads each directory once
/// (readdir gives every entry's inode, so no file is stat'ed) against the inodes this image linked, so the hold
/// costs a listing and the changes, not a link per file. Kept here because no tool refreshes a link tree by inode
/// (rsync --link-dest compares size and time). Linux only (glibc's opendir, readdir, link).
/// </summary>
public sealed partial class LinkTree(string source, string tree)
{
    /// <summary>Relative path to the inode this image linked there (0 for a directory).</summary>
    private readonly Dictionary<string, ulong> _linked = new(StringComparer.Ordinal);

    /// <summary>A fresh image: whatever was at the tree's path (a leftover) is removed first.</summary>
    public LinkTreeRefresh Build(CancellationToken cancellation)
    {
        if (Directory.Exists(tree))
        {
            Directory.Delete(tree, recursive: true);
        }

        _linked.Clear();
        return Refresh(cancellation);
    }

    /// <summary>Brings the image up to date with the source.</summary>
    public LinkTreeRefresh Refresh(CancellationToken cancellation)
    {
        var (linked, removed, unchanged, directories) = (0, 0, 0, 0);
        var seen = new HashSet<string>(StringComparer.Ordinal) { "" };
        EnsureDirectory("", source);
        var pending = new Stack<string>([""]);
        while (pending.TryPop(out var relative))
        {
            cancellation.ThrowIfCancellationRequested();
            directories++;
            foreach (var (name, inode, isDirectory) in Read(Path.Combine(source, relative)))
            {
                var path = relative.Length == 0 ? name : relative + "/" + name;
                seen.Add(path);
                var known = _linked.TryGetValue(path, out var linkedInode);
                if (isDirectory)
                {
                    if (known && linkedInode != 0)
                    {
                        RemoveFromImage(path);
                        removed++;
                    }

                    EnsureDirectory(path, Path.Combine(source, path));
                    pending.Push(path);
                }
                else if (known && linkedInode == inode)
                {
                    unchanged++;
                }
                else
                {
                    if (known)
                    {
                        // A file replaced counts as linked anew; a directory replaced by a file, as removed too.
                        removed += linkedInode == 0 ? 1 : 0;
                        RemoveFromImage(path);
                    }

                    if (Link(Path.Combine(source, path), Path.Combine(tree, path)))
                    {
                        _linked[path] = inode;
                        linked++;
                    }
                }
            }
        }

        foreach (var gone in _linked.Keys.Where(path => !seen.Contains(path)).ToList())
        {
            if (_linked.ContainsKey(gone))
            {
                RemoveFromImage(gone);
                removed++;
            }
        }

        return new LinkTreeRefresh(linked, removed, unchanged, directories);
    }

    private void EnsureDirectory(string relative, string sourceDirectory)
    {
        if (_linked.ContainsKey(relative))
        {
            return;
        }

        var made = Path.Combine(tree, relative);
        Directory.CreateDirectory(made);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(made, File.GetUnixFileMode(sourceDirectory));
        }

        _linked[relative] = 0;
    }

    /// <summary>Removes an entry (a directory with everything under it) from the tree and from what this image linked.</summary>
    private void RemoveFromImage(string relative)
    {
        var path = Path.Combine(tree, relative);
        if (_linked[relative] == 0)
        {
            Directory.Delete(path, recursive: true);
            var prefix = relative + "/";
            foreach (var under in _linked.Keys.Where(key => key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                _linked.Remove(under);
            }
        }
        else
        {
            File.Delete(path);
        }

        _linked.Remove(relative);
    }

    /// <returns>False when the source file went away meanwhile (the replicator runs while the image is first made).</returns>
    private static bool Link(string sourceFile, string link)
    {
        if (LinkCall(sourceFile, link) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ENOENT && !Path.Exists(sourceFile) && new FileInfo(sourceFile).LinkTarget is null
            ? false
            : throw new IOException($"cannot link '{link}' to '{sourceFile}': errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
    }

    /// <summary>A directory's entries with their inodes, from readdir alone; a symlink is an entry like a file, never followed.</summary>
    private static List<(string Name, ulong Inode, bool IsDirectory)> Read(string directory)
    {
        var handle = OpenDirectory(directory);
        if (handle == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot read directory '{directory}': errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
        }

        var entries = new List<(string, ulong, bool)>();
        try
        {
            for (var entry = ReadDirectory(handle); entry != 0; entry = ReadDirectory(handle))
            {
                // glibc's struct dirent on 64-bit Linux: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name.
                var name = Marshal.PtrToStringUTF8(entry + 19)!;
                if (name is "." or "..")
                {
                    continue;
                }

                var type = Marshal.ReadByte(entry, 18);
                var isDirectory = type == DT_DIR || (type == DT_UNKNOWN && Directory.Exists(Path.Combine(directory, name)) && new DirectoryInfo(Path.Combine(directory, name)).LinkTarget is null);
                entries.Add((name, (ulong)Marshal.ReadInt64(entry), isDirectory));
            }
        }
        finally
        {
            _ = CloseDirectory(handle);
        }

        return entries;
    }

    /// <summary>lstat's inode of a path (null when there is nothing there): for tests to compare an image with its source.</summary>
    internal static ulong? InodeOf(string path) => Lstat(path, out var stat) == 0 ? stat.Inode : null;

    private const int ENOENT = 2;
    private const byte DT_UNKNOWN = 0;
    private const byte DT_DIR = 4;

    /// <summary>struct stat as far as st_ino, which follows the 64-bit st_dev on x86-64 and arm64 alike; the rest is room.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct StatPrefix
    {
        public ulong Device;
        public ulong Inode;
    }

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Lstat(string path, out StatPrefix stat);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkCall(string source, string link);

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint OpenDirectory(string path);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial nint ReadDirectory(nint directory);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDirectory(nint directory);
}
