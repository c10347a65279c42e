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

    /// <summary>A writer that never replaces: something appeared at the final name meanwhile, so the copy was discarded.</summary>
    TargetAppeared,
}

/// <summary>
/// Every change made to the target. A file is copied to a hidden temp name in its final directory and given the
/// source's mode and modification time; the <see cref="GroupPublisher"/> then makes it durable together with the
/// other copies finished meanwhile and only then renames it into place: a reader (or a crash) sees the old file or
/// the new one, never part of one. Failures name the side and the path.
/// Nothing on the written side is destroyed unless <c>mayReplace</c> says it was the other side's own entry: a
/// directory goes only once empty, a file in the way of a directory only with that consent; a writer that copies
/// back into the SAN services write to never replaces anything at all.
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
    private readonly ReplicaSide _readSide;
    private readonly ReplicaSide _writeSide;
    private readonly Func<string, ReplicaEntry, bool> _mayReplace;
    private readonly bool _replaceExisting;
    private readonly GroupPublisher _publisher;

    // MaxParallelCopies of them: how many files are read and written at the same time.
    private readonly DedicatedThreads _copyThreads;

    // Temp files of copies under way: a reconcile must not mistake them for leftovers of a crash.
    private readonly ConcurrentDictionary<string, byte> _activeTemps = new(StringComparer.Ordinal);

    /// <param name="mayReplace">Whether the entry now at a relative path of the written side may be replaced or removed.</param>
    /// <param name="copiesBack">Writes into the source SAN (the target's own entries brought back): never replaces anything there.</param>
    public ReplicaWriter(string sourceRoot, string targetRoot, int maxParallelCopies, Func<string, ReplicaEntry, bool> mayReplace, bool copiesBack = false)
    {
        _sourceRoot = sourceRoot;
        _targetRoot = targetRoot;
        _mayReplace = mayReplace;
        _replaceExisting = !copiesBack;
        (_readSide, _writeSide) = copiesBack ? (ReplicaSide.Target, ReplicaSide.Source) : (ReplicaSide.Source, ReplicaSide.Target);
        _copyThreads = new DedicatedThreads(copiesBack ? "filestore copy back" : "filestore copy", maxParallelCopies);
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

    /// <param name="beforePublish">
    /// Told what the copy will be (size, modification time) once its bytes are written and before it is put in place:
    /// so whoever records it cannot be overtaken by a rename of the directory it lands in.
    /// </param>
    public async Task<(CopyOutcome Outcome, long Bytes)> CopyFileAsync(string relative, CancellationToken cancellation, Action<ReplicaEntry>? beforePublish = null)
    {
        var targetPath = TargetPath(relative);
        var temp = Path.Join(Path.GetDirectoryName(targetPath)!, ReplicaScope.TempNameFor(Path.GetFileName(targetPath)));
        _activeTemps[temp] = 0;
        var published = false;
        try
        {
            var (outcome, bytes, copied) = await _copyThreads.RunAsync(() => WriteCopy(relative, temp, cancellation), cancellation);
            if (outcome == CopyOutcome.Copied)
            {
                beforePublish?.Invoke(copied!);
                try
                {
                    await _publisher.PublishAsync(temp, targetPath, cancellation);
                }
                catch (TargetAppearedException)
                {
                    return (CopyOutcome.TargetAppeared, bytes);
                }

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
    private (CopyOutcome Outcome, long Bytes, ReplicaEntry? Copied) WriteCopy(string relative, string temp, CancellationToken cancellation)
    {
        var sourcePath = SourcePath(relative);
        SafeFileHandle source;
        try
        {
            source = Posix.OpenForReading(sourcePath);
        }
        catch (FileNotFoundException)
        {
            return (CopyOutcome.SourceVanished, 0, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(_readSide, $"cannot read {sourcePath}: {e.Message}", e);
        }

        using (source)
        {
            var before = SourceState.Of(source, sourcePath, _readSide);
            PrepareDirectoryFor(relative);
            var bytes = WriteTemp(source, sourcePath, temp, before, cancellation);
            var unchanged = SourceState.Of(source, sourcePath, _readSide) == before && bytes == before.Length;
            return unchanged ? (CopyOutcome.Copied, bytes, ReplicaEntry.File(before.Length, before.ModifiedUtc)) : (CopyOutcome.SourceChangedDuringCopy, bytes, null);
        }
    }

    /// <summary>Called by the publisher once the temp file's bytes are durable.</summary>
    private void PutInPlace(string temp, string targetPath) => OnTarget($"cannot put {targetPath} in place", () => PutInPlaceOrRefuse(temp, targetPath));

    private void PutInPlaceOrRefuse(string temp, string targetPath)
    {
        if (!_replaceExisting)
        {
            if (!Posix.RenameNoReplace(temp, targetPath))
            {
                throw new TargetAppearedException(targetPath);
            }

            return;
        }

        ClearDirectoryInTheWay(targetPath);
        AtomicRename.Replace(temp, targetPath);
    }

    public void CreateDirectory(string relative)
    {
        var targetPath = TargetPath(relative);
        OnTarget($"cannot create directory {targetPath}", () =>
        {
            ReplaceIfAllowed(relative);
            Directory.CreateDirectory(targetPath);
        });
    }

    public void CreateSymlink(string relative, string linkTarget, Action<ReplicaEntry>? beforePublish = null)
    {
        var targetPath = TargetPath(relative);
        var temp = Path.Join(PrepareDirectoryFor(relative), ReplicaScope.TempNameFor(Path.GetFileName(targetPath)));
        OnTarget($"cannot create symlink {targetPath} -> {linkTarget}", () =>
        {
            try
            {
                File.CreateSymbolicLink(temp, linkTarget);
                beforePublish?.Invoke(ReplicaEntry.Symlink(linkTarget));
                PutInPlaceOrRefuse(temp, targetPath);
            }
            catch (TargetAppearedException)
            {
                DeleteQuietly(temp);
            }
            catch
            {
                DeleteQuietly(temp);
                throw;
            }
        });
    }

    /// <summary>
    /// Removes a file or symlink from the written side. Never a directory with what is in it: each entry below is
    /// decided on its own, and the directory goes with <see cref="RemoveDirectoryIfEmpty"/> once they are gone.
    /// </summary>
    /// <returns>False when nothing was there any more (renamed away with its directory meanwhile, say).</returns>
    public bool Delete(string relative)
    {
        var targetPath = TargetPath(relative);
        return OnTarget($"cannot delete {targetPath}", () =>
        {
            if (DirectoryScanner.Read(targetPath) is { Kind: EntryKind.Directory })
            {
                throw new ReplicationException(_writeSide, $"{targetPath} is a directory; only an empty one is removed, with its entries decided one by one");
            }

            return Posix.Unlink(targetPath);
        });
    }

    /// <summary>rmdir(2): false when the directory still holds something (an entry that is not the other side's to remove).</summary>
    public bool RemoveDirectoryIfEmpty(string relative)
    {
        var targetPath = TargetPath(relative);
        return OnTarget($"cannot remove directory {targetPath}", () =>
        {
            try
            {
                Directory.Delete(targetPath, recursive: false);
                return true;
            }
            catch (DirectoryNotFoundException)
            {
                return true;
            }
            catch (IOException) when (Directory.Exists(targetPath) && Directory.EnumerateFileSystemEntries(targetPath).Any())
            {
                return false;
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

    private long WriteTemp(SafeFileHandle source, string sourcePath, string temp, SourceState before, CancellationToken cancellation)
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

    private int ReadSource(SafeFileHandle source, string sourcePath, byte[] buffer, long offset)
    {
        try
        {
            return RandomAccess.Read(source, buffer.AsSpan(0, ChunkSize), offset);
        }
        catch (IOException e)
        {
            throw new ReplicationException(_readSide, $"cannot read {sourcePath}: {e.Message}", e);
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
                ReplaceIfAllowed(blocker);
                Directory.CreateDirectory(directory);
            }
        });
        return directory;
    }

    /// <summary>The relative path of the first entry above <paramref name="relative"/> on the written side that is not a directory.</summary>
    private string? FirstNonDirectoryAbove(string relative)
    {
        var segments = relative.Split('/');
        for (var depth = 1; depth < segments.Length; depth++)
        {
            var candidate = string.Join('/', segments[..depth]);
            if (DirectoryScanner.Read(TargetPath(candidate)) is { Kind: not EntryKind.Directory })
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>A directory in the way of a file goes only when empty (the replicator removed what was in it first, entry by entry).</summary>
    private static void ClearDirectoryInTheWay(string targetPath)
    {
        if (DirectoryScanner.Read(targetPath) is { Kind: EntryKind.Directory })
        {
            Directory.Delete(targetPath, recursive: false);
        }
    }

    /// <summary>A file or symlink where a directory must go is removed only if it was the other side's own entry.</summary>
    private void ReplaceIfAllowed(string relative)
    {
        var path = TargetPath(relative);
        if (DirectoryScanner.Read(path) is { Kind: not EntryKind.Directory } existing)
        {
            if (!_replaceExisting || !_mayReplace(relative, existing))
            {
                throw new ReplicationException(_writeSide,
                    $"conflict at {path}: it holds a {existing.Kind.ToString().ToLowerInvariant()} the other side never had, where a directory must go; it is left alone, resolve it by hand");
            }

            File.Delete(path);
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

    private void OnTarget(string what, Action action) => OnTarget(what, () =>
    {
        action();
        return true;
    });

    private T OnTarget<T>(string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not ReplicationException and not TargetAppearedException)
        {
            throw new ReplicationException(_writeSide, $"{what}: {e.Message}", e);
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
        public static SourceState Of(SafeFileHandle handle, string path, ReplicaSide side)
        {
            try
            {
                return new(RandomAccess.GetLength(handle), File.GetLastWriteTimeUtc(handle), ModeOf(handle));
            }
            catch (IOException e)
            {
                throw new ReplicationException(side, $"cannot stat {path}: {e.Message}", e);
            }
        }
    }

    /// <summary>A never-replacing writer found the final name taken: the copy is dropped, and the path looked at again.</summary>
    private sealed class TargetAppearedException(string path) : IOException($"{path} appeared while it was being copied there");
}
