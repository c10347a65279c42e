namespace Gateway.Filestore;

/// <summary>What one side of a verification holds.</summary>
public sealed record VerifiedTree(string Path, int Files, int Directories, int Symlinks, long Bytes)
{
    public static VerifiedTree Of(string path, DirectorySnapshot snapshot) => new(
        path,
        snapshot.Entries.Values.Count(e => e.Kind == EntryKind.File),
        snapshot.Entries.Values.Count(e => e.Kind == EntryKind.Directory),
        snapshot.Entries.Values.Count(e => e.Kind == EntryKind.Symlink),
        snapshot.Entries.Values.Sum(e => e.Size));
}

/// <summary>Both sides counted and every difference between them; in the differences, "source" is A and "target" is B.</summary>
public sealed record VerificationReport(VerifiedTree A, VerifiedTree B, IReadOnlyList<SnapshotDifference> Differences)
{
    public bool Identical => Differences.Count == 0;

    /// <summary>The report as lines for an operator: the totals, then one line per difference.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"A {A.Path}: {A.Files} files, {A.Directories} directories, {A.Symlinks} symlinks, {A.Bytes} bytes";
        yield return $"B {B.Path}: {B.Files} files, {B.Directories} directories, {B.Symlinks} symlinks, {B.Bytes} bytes";
        yield return Identical ? "identical (SHA-256 of every file)" : $"{Differences.Count} difference(s):";
        foreach (var difference in Differences)
        {
            yield return "  " + Describe(difference);
        }
    }

    private static string Describe(SnapshotDifference d) => d.Kind switch
    {
        DifferenceKind.MissingOnTarget => $"missing on B: {d.Path} ({d.Source})",
        DifferenceKind.ExtraOnTarget => $"missing on A: {d.Path} ({d.Target})",
        DifferenceKind.SizeDiffers => $"size differs: {d.Path} (A {d.Source!.Size} bytes, B {d.Target!.Size} bytes)",
        DifferenceKind.ContentDiffers => $"content differs: {d.Path} (sha256 A {d.Source!.Sha256}, B {d.Target!.Sha256})",
        _ => $"{d.Kind}: {d.Path} (A {d.Source}, B {d.Target})",
    };
}

/// <summary>
/// Compares two replica trees completely: every name, kind, size and the SHA-256 of every file (modification times
/// are not compared: equal content is what counts). The replicator's temp files and in-progress writes are left out.
/// </summary>
public static class FilestoreVerifier
{
    public static Task<VerificationReport> CompareAsync(string a, string b, CancellationToken cancellation = default) =>
        CompareAsync(a, b, ReplicaScope.Default, cancellation);

    public static async Task<VerificationReport> CompareAsync(string a, string b, ReplicaScope scope, CancellationToken cancellation)
    {
        var sideA = await HashedSnapshotAsync(a, scope, cancellation);
        var sideB = await HashedSnapshotAsync(b, scope, cancellation);
        return new VerificationReport(VerifiedTree.Of(a, sideA), VerifiedTree.Of(b, sideB), SnapshotComparison.Compare(sideA, sideB));
    }

    private static async Task<DirectorySnapshot> HashedSnapshotAsync(string root, ReplicaScope scope, CancellationToken cancellation)
    {
        var snapshot = await DedicatedThreads.RunOnThreadOfItsOwnAsync(() => DirectoryScanner.Scan(root, "", scope, cancellation), cancellation);
        var files = snapshot.Entries.Where(pair => pair.Value.Kind == EntryKind.File).Select(pair => pair.Key);
        return await ContentHasher.AddHashesAsync(root, snapshot, files, cancellation);
    }
}
