using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Filestore;

internal enum CopyOutcome
{
    Copied,

    /// <summary>The source file was gone before it could be opened.</summary>
    SourceVanished,

    /// <summary>The source changed while it was read; the copy was discarded rather than published torn.</summary>
    SourceChangedDuringCopy,
}

/// <summary>
/// Every change made to the target. A file is copied to a hidden temp name in its final directory and given the
/// source's mode and modification time; the <see cref="GroupPublisher"/> then makes it durable together with the
/// other copies finished meanwhile and only then renames it into place: a reader (or a crash) sees the old file or
/// the new one, never part of one. Failures name the side and the path.
/// </summary>
internal sealed class ReplicaWriter : IDisposable
{
    /// <summary>
    /// Copies whose bytes are written, waiting for their group's flush, beyond the ones being written: these do not
    /// hold a copy thread, so the next files are read while a group is flushed. Bounds the replicator's workers.
    /// </summary>
    public const int MaxCopiesAwaitingFlush = 256;

    private const int ChunkSize = 1024 * 1024;

    private readonly string _sourceRoot;
    private readonly string _targetRoot;
    private readonly GroupPublisher _publisher;

    // MaxParallelCopies of them: how many files are read and written at the same time.
    private readonly DedicatedThreads _copyThreads;

    // Temp files of copies under way: a reconcile must not mistake them for leftovers of a crash.
    private readonly ConcurrentDictionary<string, byte> _activeTemps = new(StringComparer.Ordinal);

    public ReplicaWriter(string sourceRoot, string targetRoot, int maxParallelCopies)
    {
        _sourceRoot = sourceRoot;
        _targetRoot = targetRoot;
        _copyThreads = new DedicatedThreads("filestore copy", maxParallelCopies);
        _publisher = new GroupPublisher(targetRoot, PutInPlace);
    }

    /// <summary>Ends the copy and flush threads once what is queued has run (a stopped replicator's copies are cancelled, so that is quick).</summary>
    public void Dispose()
    {
        _copyThreads.Dispose();
        _publisher.Dispose();
    }

    public string SourcePath(string relative) => Path.Join(_sourceRoot, relative);

    public string TargetPath(string relative) => Path.Join(_targetRoot, relative);

    public async Task<(CopyOutcome Outcome, long Bytes)> CopyFileAsync(string relative, CancellationToken cancellation)
    {
        var targetPath = TargetPath(relative);
        var temp = Path.Join(Path.GetDirectoryName(targetPath)!, ReplicaScope.TempNameFor(Path.GetFileName(targetPath)));
        _activeTemps[temp] = 0;
        var published = false;
        try
        {
            var (outcome, bytes) = await _copyThreads.RunAsync(() => WriteCopy(relative, temp, cancellation), cancellation);
            if (outcome == CopyOutcome.Copied)
            {
                await _publisher.PublishAsync(temp, targetPath, cancellation);
                published = true;
            }

            return (outcome, bytes);
        }
        finally
        {
            if (!published)
            {
                DeleteQuietly(temp);
            }

            _activeTemps.TryRemove(temp, out _);
        }
    }

    /// <summary>Writes the source's current content to <paramref name="temp"/> (not yet durable); runs on a copy thread.</summary>
    private (CopyOutcome Outcome, long Bytes) WriteCopy(string relative, string temp, CancellationToken cancellation)
    {
        var sourcePath = SourcePath(relative);
        SafeFileHandle source;
        try
        {
            source = Posix.OpenForReading(sourcePath);
        }
        catch (FileNotFoundException)
        {
            return (CopyOutcome.SourceVanished, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(ReplicaSide.Source, $"cannot read {sourcePath}: {e.Message}", e);
        }

        using (source)
        {
            var before = SourceState.Of(source, sourcePath);
            PrepareDirectoryFor(relative);
            var bytes = WriteTemp(source, sourcePath, temp, before, cancellation);
            var unchanged = SourceState.Of(source, sourcePath) == before && bytes == before.Length;
            return (unchanged ? CopyOutcome.Copied : CopyOutcome.SourceChangedDuringCopy, bytes);
        }
    }

    /// <summary>Called by the publisher once the temp file's bytes are durable.</summary>
    private static void PutInPlace(string temp, string targetPath) => OnTarget($"cannot put {targetPath} in place", () =>
    {
        ClearDirectoryInTheWay(targetPath);
        AtomicRename.Replace(temp, targetPath);
    });

    public void CreateDirectory(string relative)
    {
        var targetPath = TargetPath(relative);
        OnTarget($"cannot create directory {targetPath}", () =>
        {
            DeleteNonDirectory(targetPath);
            Directory.CreateDirectory(targetPath);
        });
    }

    public void CreateSymlink(string relative, string linkTarget)
    {
        var targetPath = TargetPath(relative);
        var temp = Path.Join(PrepareDirectoryFor(relative), ReplicaScope.TempNameFor(Path.GetFileName(targetPath)));
        OnTarget($"cannot create symlink {targetPath} -> {linkTarget}", () =>
        {
            try
            {
                File.CreateSymbolicLink(temp, linkTarget);
                ClearDirectoryInTheWay(targetPath);
                AtomicRename.Replace(temp, targetPath);
            }
            catch
            {
                DeleteQuietly(temp);
                throw;
            }
        });
    }

    /// <summary>Removes a file, symlink or whole directory from the target.</summary>
    public void Delete(string relative)
    {
        var targetPath = TargetPath(relative);
        OnTarget($"cannot delete {targetPath}", () =>
        {
            if (DirectoryScanner.Read(targetPath) is { Kind: EntryKind.Directory })
            {
                Directory.Delete(targetPath, recursive: true);
            }
            else
            {
                File.Delete(targetPath);
            }
        });
    }

    /// <summary>Renames the target's copy from one name to another; false when the old name was gone by then (another worker got there first).</summary>
    public bool Move(string fromRelative, string toRelative)
    {
        var from = TargetPath(fromRelative);
        var to = TargetPath(toRelative);
        PrepareDirectoryFor(toRelative);
        try
        {
            AtomicRename.Replace(from, to);
            return true;
        }
        catch (SystemCallException e) when (e.Errno == Posix.NoSuchEntry)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(ReplicaSide.Target, $"cannot rename {from} to {to}: {e.Message}", e);
        }
    }

    /// <summary>Deletes a temp file a crashed copy left on the target; one a copy is writing right now is left alone.</summary>
    public void DeleteLeftoverTemp(string relative)
    {
        var path = TargetPath(relative);
        if (!_activeTemps.ContainsKey(path))
        {
            DeleteQuietly(path);
        }
    }

    private static long WriteTemp(SafeFileHandle source, string sourcePath, string temp, SourceState before, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            // Reserving the space first turns a full target into an error before any byte is written.
            using var output = OnTarget($"cannot create {temp}", () =>
                File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, preallocationSize: before.Length));
            long offset = 0;
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                var read = ReadSource(source, sourcePath, buffer, offset);
                if (read == 0)
                {
                    break;
                }

                OnTarget($"cannot write {temp}", () => RandomAccess.Write(output, buffer.AsSpan(0, read), offset));
                offset += read;
            }

            // Not fsynced here: the publisher makes it durable with the rest of its group before the rename. Its
            // writeback starts now, so that the group's syncfs finds most of the bytes already on their way.
            OnTarget($"cannot set the mode and time of {temp}", () =>
            {
                SetMode(output, before.Mode);
                File.SetLastWriteTimeUtc(output, before.ModifiedUtc);
            });
            Posix.StartWriteback(output);
            return offset;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int ReadSource(SafeFileHandle source, string sourcePath, byte[] buffer, long offset)
    {
        try
        {
            return RandomAccess.Read(source, buffer.AsSpan(0, ChunkSize), offset);
        }
        catch (IOException e)
        {
            throw new ReplicationException(ReplicaSide.Source, $"cannot read {sourcePath}: {e.Message}", e);
        }
    }

    /// <summary>Creates the directories above a target path (replacing a file in the way) and returns the one that holds it.</summary>
    private string PrepareDirectoryFor(string relative)
    {
        var directory = Path.GetDirectoryName(TargetPath(relative))!;
        OnTarget($"cannot create directory {directory}", () =>
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (IOException) when (FirstNonDirectoryAbove(relative) is { } blocker)
            {
                // The source turned a file into a directory; the target still has the file.
                File.Delete(blocker);
                Directory.CreateDirectory(directory);
            }
        });
        return directory;
    }

    private string? FirstNonDirectoryAbove(string relative)
    {
        var segments = relative.Split('/');
        for (var depth = 1; depth < segments.Length; depth++)
        {
            var candidate = TargetPath(string.Join('/', segments[..depth]));
            if (DirectoryScanner.Read(candidate) is { Kind: not EntryKind.Directory })
            {
                return candidate;
            }
        }

        return null;
    }

    private static void ClearDirectoryInTheWay(string targetPath)
    {
        if (DirectoryScanner.Read(targetPath) is { Kind: EntryKind.Directory })
        {
            Directory.Delete(targetPath, recursive: true);
        }
    }

    private static void DeleteNonDirectory(string targetPath)
    {
        if (DirectoryScanner.Read(targetPath) is { Kind: not EntryKind.Directory })
        {
            File.Delete(targetPath);
        }
    }

    /// <summary>Best effort: the failure that made the cleanup necessary says more than a failed cleanup would.</summary>
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The target directory is gone or unwritable; the next reconcile removes the leftover.
        }
    }

    private static void OnTarget(string what, Action action) => OnTarget(what, () =>
    {
        action();
        return true;
    });

    private static T OnTarget<T>(string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not ReplicationException)
        {
            throw new ReplicationException(ReplicaSide.Target, $"{what}: {e.Message}", e);
        }
    }

    // The gateway runs on Linux only (inotify, rename(2)); the platform checks are there for the analyzer, which cannot know that.
    private static UnixFileMode ModeOf(SafeFileHandle file) => OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(file);

    private static void SetMode(SafeFileHandle file, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, mode);
        }
    }

    /// <summary>What identifies the source's content for a copy: if any of it changes while the copy reads, the copy is torn.</summary>
    private sealed record SourceState(long Length, DateTime ModifiedUtc, UnixFileMode Mode)
    {
        public static SourceState Of(SafeFileHandle handle, string path)
        {
            try
            {
                return new(RandomAccess.GetLength(handle), File.GetLastWriteTimeUtc(handle), ModeOf(handle));
            }
            catch (IOException e)
            {
                throw new ReplicationException(ReplicaSide.Source, $"cannot stat {path}: {e.Message}", e);
            }
        }
    }
}
