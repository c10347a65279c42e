using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Filestore;

/// <summary>
/// The few system calls the filestore needs exactly as the kernel offers them: .NET's own wrappers either fall back to
/// something else (File.Move copies across file systems) or add what must not happen here (FileStream takes an
/// advisory flock, which would make a service's exclusive open fail while the replicator reads its file).
/// </summary>
internal static partial class Posix
{
    // Identical on x86-64 and arm64 (the generic Linux ABI).
    private const int OpenReadOnly = 0;
    private const int OpenNonBlocking = 0x800; // a FIFO in the tree must not hang a reader
    private const int OpenCloseOnExec = 0x80000;

    private static readonly Dictionary<int, string> ErrnoNames = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [5] = "EIO", [13] = "EACCES", [16] = "EBUSY", [17] = "EEXIST", [18] = "EXDEV",
        [20] = "ENOTDIR", [21] = "EISDIR", [22] = "EINVAL", [28] = "ENOSPC", [30] = "EROFS", [36] = "ENAMETOOLONG",
        [39] = "ENOTEMPTY", [40] = "ELOOP", [122] = "EDQUOT",
    };

    public const int NoSuchEntry = 2;
    public const int AlreadyExists = 17;
    public const int NotADirectory = 20;
    public const int InvalidArgument = 22;
    public const int NotEmpty = 39;

    /// <summary>rename(2): atomically puts <paramref name="source"/> in place of <paramref name="destination"/>, or fails; never copies.</summary>
    public static void Rename(string source, string destination)
    {
        if (RenameCall(source, destination) != 0)
        {
            throw LastError($"rename of '{source}' to '{destination}'");
        }
    }

    /// <summary>
    /// renameat2(2) with RENAME_NOREPLACE: puts <paramref name="source"/> at <paramref name="destination"/> only if
    /// nothing is there, atomically; false when something is. For writes into a SAN that services write too, where a
    /// file that appeared meanwhile is theirs and must not be replaced. A file system without the flag (EINVAL) gets a
    /// look first and a plain rename, which leaves a window of a few microseconds.
    /// </summary>
    public static bool RenameNoReplace(string source, string destination)
    {
        const uint renameNoReplace = 1;
        const int currentDirectory = -100; // AT_FDCWD
        if (Renameat2Call(currentDirectory, source, currentDirectory, destination, renameNoReplace) == 0)
        {
            return true;
        }

        var error = LastError($"rename (no replace) of '{source}' to '{destination}'");
        if (error.Errno == AlreadyExists)
        {
            return false;
        }

        if (error.Errno != InvalidArgument)
        {
            throw error;
        }

        if (DirectoryScanner.Read(destination) is not null)
        {
            return false;
        }

        Rename(source, destination);
        return true;
    }

    /// <summary>unlink(2): removes a file or symlink; false when nothing was there (it was already gone or renamed away).</summary>
    public static bool Unlink(string path)
    {
        if (UnlinkCall(path) == 0)
        {
            return true;
        }

        var error = LastError($"unlink of '{path}'");
        return error.Errno is NoSuchEntry or NotADirectory ? false : throw error;
    }

    /// <summary>Opens a file for reading with open(2) alone: no advisory lock, so no writer is ever refused because of the reader.</summary>
    public static SafeFileHandle OpenForReading(string path)
    {
        var fd = OpenCall(path, OpenReadOnly | OpenNonBlocking | OpenCloseOnExec);
        if (fd < 0)
        {
            var error = LastError($"open of '{path}'");
            // Not there, or a directory on the way is now a file: either way there is no such file to read.
            throw error.Errno is NoSuchEntry or NotADirectory ? new FileNotFoundException(error.Message, path, error) : error;
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>A rename is durable only once the directory that holds the name is on disk.</summary>
    public static void FsyncDirectory(string directory) => Fsync(directory);

    /// <summary>fsync(2) of a file or directory by path (a read-only descriptor is enough on Linux).</summary>
    public static void Fsync(string path)
    {
        using var handle = OpenForReading(path);
        if (FsyncCall(handle) != 0)
        {
            throw LastError($"fsync of '{path}'");
        }
    }

    /// <summary>
    /// syncfs(2): writes back everything pending on the file system that holds <paramref name="anyPathOnIt"/> and
    /// waits for it, with one journal commit and one cache flush for all of it instead of one per file. Since Linux
    /// 5.8 it also reports a writeback error of any file written there since the last call.
    /// </summary>
    public static void SyncFileSystem(string anyPathOnIt)
    {
        using var handle = OpenForReading(anyPathOnIt);
        if (SyncfsCall(handle) != 0)
        {
            throw LastError($"syncfs of the file system holding '{anyPathOnIt}'");
        }
    }

    /// <summary>
    /// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing the file's dirty pages to disk and returns at once.
    /// Only a head start for a later syncfs or fsync, never a durability guarantee (it neither waits nor writes
    /// metadata), so a file system that does not support it is no error.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file) => _ = SyncFileRangeCall(file, 0, 0, SyncFileRangeWrite);

    private const uint SyncFileRangeWrite = 2;

    private static SystemCallException LastError(string call)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new SystemCallException(call, errno, ErrnoNames.GetValueOrDefault(errno, $"errno {errno}"), Marshal.GetPInvokeErrorMessage(errno));
    }

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameCall(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Renameat2Call(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkCall(string path);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenCall(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncCall(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRangeCall(SafeFileHandle fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncfsCall(SafeFileHandle fd);
}

/// <summary>A failed system call: which call on which paths, the errno by name and the kernel's own words.</summary>
public sealed class SystemCallException(string call, int errno, string errnoName, string description)
    : IOException($"{call} failed: {description} ({errnoName}){Hint(errnoName)}")
{
    public int Errno { get; } = errno;

    public string ErrnoName { get; } = errnoName;

    private static string Hint(string errnoName) => errnoName == "EXDEV"
        ? "; the two paths are on different file systems, and an atomic rename cannot cross them (nothing was copied)"
        : "";
}
