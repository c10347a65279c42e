namespace Gateway.Filestore;

/// <summary>
/// Puts finished copies in place on the target in groups, the way a database commits transactions in groups. Each
/// flush makes two things durable at once: the bytes of the temp files of the group about to be renamed, and the
/// renames of the group before; for a large group with one syncfs(2) of the target file system (one journal commit
/// and one cache flush for all of it), for a few files with an fsync of each. So a final name never shows bytes that
/// are not on disk (a crash leaves the old file or the complete new one), and a copy is reported done only once its
/// rename is on disk too, without the per-file fsync that made the initial sync of many files slow.
/// </summary>
/// <remarks>
/// No timer decides when a group closes: the first copy that arrives while no flush runs starts one at once, and
/// whatever arrives while a flush runs forms the next group. A lone change (streaming) is done after two flushes; a
/// bulk copy gets groups as large as what its copies write during one flush. syncfs writes back the whole target
/// file system, which on a SAN replica holds the replica alone.
/// </remarks>
internal sealed class GroupPublisher(string targetRoot, Action<string, string> putInPlace) : IDisposable
{
    /// <summary>Up to this many files (to write, or whose renames to make durable), a flush fsyncs each rather than the whole file system.</summary>
    private const int FewFiles = 4;

    // syncfs and fsync block for as long as the disk takes: never on a thread-pool thread.
    private readonly DedicatedThreads _flushThread = new("filestore flush", 1);
    private readonly Lock _gate = new();
    private List<Publication> _waiting = [];
    private bool _flushing;

    /// <summary>
    /// Returns once <paramref name="temp"/> is durable, renamed to <paramref name="finalPath"/> and that rename is
    /// durable; throws what the flush or the rename threw. Cancelled before its group's flush began, the copy is
    /// withdrawn (nothing renamed); cancelled later, it waits for the flushes, so that the caller knows whether the
    /// temp file was put in place.
    /// </summary>
    public async Task PublishAsync(string temp, string finalPath, CancellationToken cancellation)
    {
        var publication = new Publication(temp, finalPath);
        if (Enqueue(publication))
        {
            StartFlushing();
        }

        try
        {
            await publication.Done.Task.WaitAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested && !publication.Done.Task.IsCompleted)
        {
            if (Withdraw(publication))
            {
                throw;
            }

            await publication.Done.Task;
        }
    }

    /// <returns>True when no flush runs, so the caller must start one.</returns>
    private bool Enqueue(Publication publication)
    {
        lock (_gate)
        {
            _waiting.Add(publication);
            var mustStart = !_flushing;
            _flushing = true;
            return mustStart;
        }
    }

    private bool Withdraw(Publication publication)
    {
        lock (_gate)
        {
            return _waiting.Remove(publication);
        }
    }

    public void Dispose() => _flushThread.Dispose();

    private void StartFlushing()
    {
        try
        {
            _ = _flushThread.RunAsync(FlushWhileAnythingWaits, CancellationToken.None);
        }
        catch (TaskSchedulerException disposed)
        {
            // Only once disposed: what waits fails now rather than wait for a flush that will never run.
            List<Publication> stranded;
            lock (_gate)
            {
                (stranded, _waiting, _flushing) = (_waiting, [], false);
            }

            foreach (var publication in stranded)
            {
                publication.Done.TrySetException(new ObjectDisposedException(nameof(GroupPublisher), disposed));
            }
        }
    }

    private void FlushWhileAnythingWaits()
    {
        List<Publication> renamed = [];
        while (TakeGroup(renamedNotYetDurable: renamed.Count > 0) is { } group)
        {
            try
            {
                renamed = Flush(group, renamed);
            }
            catch (Exception bug)
            {
                // Never leave a copy waiting forever, nor this loop dead with the next group queued behind it.
                foreach (var publication in group.Concat(renamed))
                {
                    publication.Done.TrySetException(bug);
                }

                renamed = [];
            }
        }
    }

    /// <summary>The copies waiting now (maybe none, when renames still need a flush), or null when all is done and the loop ends.</summary>
    private List<Publication>? TakeGroup(bool renamedNotYetDurable)
    {
        lock (_gate)
        {
            if (_waiting.Count == 0 && !renamedNotYetDurable)
            {
                _flushing = false;
                return null;
            }

            var group = _waiting;
            _waiting = [];
            return group;
        }
    }

    /// <summary>One flush to disk, then the previous group is done and this one is renamed; returns the copies renamed.</summary>
    private List<Publication> Flush(List<Publication> group, List<Publication> renamedBefore)
    {
        try
        {
            MakeDurable(group, renamedBefore);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Their copies are tried again from the start; a rename already done is simply replaced by the next one.
            var failure = new ReplicationException(ReplicaSide.Target, $"cannot write copied files to disk on {targetRoot}: {e.Message}", e);
            foreach (var publication in group.Concat(renamedBefore))
            {
                publication.Done.TrySetException(failure);
            }

            return [];
        }

        foreach (var publication in renamedBefore)
        {
            publication.Done.TrySetResult();
        }

        var renamed = new List<Publication>(group.Count);
        foreach (var publication in group)
        {
            try
            {
                putInPlace(publication.Temp, publication.FinalPath);
                renamed.Add(publication);
            }
            catch (Exception e)
            {
                publication.Done.TrySetException(e);
            }
        }

        return renamed;
    }

    /// <summary>
    /// The bytes of <paramref name="group"/> and the renames of <paramref name="renamedBefore"/>: with one syncfs, or
    /// for a few files (streaming, where groups hold one or two) with an fsync of each file and each directory, which
    /// costs about the same there and leaves alone whatever else is pending on the file system.
    /// </summary>
    private void MakeDurable(List<Publication> group, List<Publication> renamedBefore)
    {
        if (group.Count + renamedBefore.Count > FewFiles)
        {
            Posix.SyncFileSystem(targetRoot);
            return;
        }

        foreach (var publication in group)
        {
            Posix.Fsync(publication.Temp);
        }

        foreach (var directory in renamedBefore.Select(publication => Path.GetDirectoryName(publication.FinalPath)!).Distinct(StringComparer.Ordinal))
        {
            Posix.FsyncDirectory(directory);
        }
    }

    private sealed class Publication(string temp, string finalPath)
    {
        public string Temp { get; } = temp;

        public string FinalPath { get; } = finalPath;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
