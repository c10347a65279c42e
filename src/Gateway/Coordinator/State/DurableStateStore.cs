using System.Runtime.InteropServices;
using System.Text.Json;

namespace Gateway.Coordinator.State;

/// <summary>
/// Keeps <see cref="DurableState"/> in state.json under the state directory. A save writes a temp file, fsyncs it,
/// renames it over the old one and fsyncs the directory: after a crash the file is either the old state or the new
/// one, never a torn mix, and a saved state survives power loss.
/// </summary>
public sealed partial class DurableStateStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly Lock _gate = new();
    private readonly string _directory;
    private readonly string _path;

    public DurableStateStore(string directory)
    {
        _directory = directory;
        _path = Path.Combine(directory, "state.json");
        Directory.CreateDirectory(directory);
    }

    /// <summary>The saved state, or null on a first start. A file that cannot be read is an error, never silently replaced.</summary>
    public DurableState? Load()
    {
        if (!File.Exists(_path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DurableState>(File.ReadAllText(_path), Json)
                ?? throw new InvalidDataException("the file is empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"gateway state file '{_path}' is unreadable ({e.Message}); fix or remove it by hand after checking which database node is primary", e);
        }
    }

    public void Save(DurableState state)
    {
        lock (_gate)
        {
            var temp = _path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, state, Json);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
            FsyncDirectory(_directory);
        }
    }

    /// <summary>A rename is durable only once the directory entry is on disk.</summary>
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
