namespace Gateway.Filestore;

/// <summary>
/// The two SAN directories of one direction, as the replicator reads them: a stat, a scan or a comparison of both,
/// each failure a <see cref="ReplicationException"/> naming the side. Scans run on threads of their own, so that one
/// stuck on a hung mount holds up no worker.
/// </summary>
internal sealed class ReplicaSides(ReplicationDirection direction, ReplicaScope scope) : IDisposable
{
    // A whole-tree reconcile and the subtree of a new directory; two, so that one long scan does not hold up the other.
    private readonly DedicatedThreads _scanThreads = new("filestore scan", 2);

    public string RootOf(ReplicaSide side) => side == ReplicaSide.Source ? direction.SourcePath : direction.TargetPath;

    /// <summary>
    /// The source's entry, where "nothing there" is only believed while the source directory itself is there: a
    /// source that is gone (unmounted, lost) must never read as "everything was deleted", nor drop a pending change.
    /// </summary>
    public ReplicaEntry? ReadSource(string path)
    {
        var entry = Read(ReplicaSide.Source, path);
        if (entry is null && !Directory.Exists(direction.SourcePath))
        {
            throw new ReplicationException(ReplicaSide.Source, $"the source directory {direction.SourcePath} is gone; nothing is replicated until it is back");
        }

        return entry;
    }

    public ReplicaEntry? Read(ReplicaSide side, string path)
    {
        var fullPath = Path.Join(RootOf(side), path);
        try
        {
            return DirectoryScanner.Read(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(side, $"cannot stat {fullPath}: {e.Message}", e);
        }
    }

    /// <summary>Both whole trees, scanned one after the other on a scan thread; WaitAsync: a scan stuck on a hung mount must not hold its caller past a cancellation.</summary>
    public Task<(DirectorySnapshot Source, DirectorySnapshot Target)> ScanBothAsync(CancellationToken cancellation) =>
        _scanThreads.RunAsync(() => (Scan(ReplicaSide.Source, "", cancellation), Scan(ReplicaSide.Target, "", cancellation)), cancellation)
            .WaitAsync(cancellation);

    /// <summary>The target's entries under <paramref name="subtree"/>, scanned on a scan thread.</summary>
    public Task<DirectorySnapshot> ScanTargetAsync(string subtree, CancellationToken cancellation) =>
        _scanThreads.RunAsync(() => Scan(ReplicaSide.Target, subtree, cancellation), cancellation).WaitAsync(cancellation);

    /// <summary>What differs between the sides under <paramref name="subtree"/> (the whole tree after lost events), scanned off the thread pool.</summary>
    public Task<IReadOnlyList<SnapshotDifference>> CompareAsync(string subtree, CancellationToken cancellation) =>
        _scanThreads.RunAsync(
            () => SnapshotComparison.Compare(Scan(ReplicaSide.Source, subtree, cancellation), Scan(ReplicaSide.Target, subtree, cancellation)), cancellation);

    /// <summary>The snapshot of <paramref name="side"/> with the SHA-256 of each of <paramref name="paths"/>.</summary>
    public async Task<DirectorySnapshot> HashAsync(ReplicaSide side, DirectorySnapshot snapshot, IReadOnlyList<string> paths, CancellationToken cancellation)
    {
        var root = RootOf(side);
        try
        {
            return await ContentHasher.AddHashesAsync(root, snapshot, paths, cancellation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(side, $"cannot read files under {root} for checksums: {e.Message}", e);
        }
    }

    public void Dispose() => _scanThreads.Dispose();

    private DirectorySnapshot Scan(ReplicaSide side, string subtree, CancellationToken cancellation)
    {
        var root = RootOf(side);
        try
        {
            return DirectoryScanner.Scan(root, subtree, scope, cancellation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(side, $"cannot scan {Path.Join(root, subtree)}: {e.Message}", e);
        }
    }
}
