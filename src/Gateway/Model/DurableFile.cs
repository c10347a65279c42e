using System.Runtime.InteropServices;

namespace Gateway.Model;

/// <summary>
/// The two ways the gateway writes what it must not lose: replacing a whole file (temp file, fsync, rename, fsync of
/// the directory: after a crash the file is the old content or the new, never a torn mix) and appending to a log
/// (write, fsync; the directory too when the append created the file). Either returns only once the bytes are on disk.
/// </summary>
public static partial class DurableFile
{
    public static void Replace(string path, Action<Stream> write)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(path)!);
    }

    public static void Append(string path, ReadOnlySpan<byte> bytes)
    {
        var created = !File.Exists(path);
        using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        if (created)
        {
            FsyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    /// <summary>A rename or a new file is durable only once the directory entry is on disk.</summary>
    private static void FsyncDirectory(string directory)
    {
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open '{directory}' to fsync it: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of '{directory}' failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
