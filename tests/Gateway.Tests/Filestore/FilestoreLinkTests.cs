using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class FilestoreLinkTests : IDisposable
{
    private readonly SanPair _sans = new();

    public FilestoreLinkTests() => File.CreateSymbolicLink(Link, _sans.SanA);

    private string Link => Path.Combine(_sans.Root, "filestore");

    public void Dispose() => _sans.Dispose();

    /// <summary>
    /// 10,000 flips here, in every run (a flip costs tens of microseconds, so the full count is cheap), and more while
    /// any reader has not yet read a hundred times during the flipping: on a busy machine a reader's thread may not
    /// get scheduled before 10,000 flips are over.
    /// </summary>
    [Integration]
    [Fact]
    public async Task Ten_thousand_flips_under_four_readers_never_show_a_missing_link_or_a_partial_file()
    {
        const int Flips = 10_000, ReadsEach = 100;
        var content = new byte[64 * 1024];
        new Random(4).NextBytes(content);
        File.WriteAllBytes(_sans.A("data.bin"), content);
        File.WriteAllBytes(_sans.B("data.bin"), content);
        var throughLink = Path.Combine(Link, "data.bin");

        using var flipping = new CancellationTokenSource();
        var reads = new int[4];
        var readers = reads.Select((_, reader) => Task.Factory.StartNew(
            () => ReadLoop(throughLink, content, reads, reader, flipping.Token), TaskCreationOptions.LongRunning)).ToList();
        var flips = 0;
        var giveUpAt = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (flips < Flips || (Enumerable.Range(0, reads.Length).Any(i => Volatile.Read(ref reads[i]) < ReadsEach) && DateTime.UtcNow < giveUpAt))
        {
            // In pairs, so the link ends where it started.
            FilestoreLink.Flip(Link, _sans.SanB, targetIsCompleteReplica: true);
            FilestoreLink.Flip(Link, _sans.SanA, targetIsCompleteReplica: true);
            flips += 2;
        }

        await flipping.CancelAsync();
        var results = await Task.WhenAll(readers);

        Assert.Equal(0, results.Sum(r => r.Missing));
        Assert.Equal(0, results.Sum(r => r.Partial));
        Assert.All(results, r => Assert.True(r.Reads >= ReadsEach, $"a reader read only {r.Reads} times during {flips} flips (60 s)"));
        Assert.Equal(_sans.SanA, FilestoreLink.CurrentTarget(Link));
        Assert.Empty(Directory.GetFiles(_sans.Root, ".filestore.flip-*"));
    }

    private static (int Reads, int Missing, int Partial) ReadLoop(string path, byte[] expected, int[] reads, int reader, CancellationToken stop)
    {
        int missing = 0, partial = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var read = File.ReadAllBytes(path);
                if (!read.AsSpan().SequenceEqual(expected))
                {
                    partial++;
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                missing++;
            }

            Interlocked.Increment(ref reads[reader]);
        }

        return (Volatile.Read(ref reads[reader]), missing, partial);
    }

    [Fact]
    public void A_flip_replaces_the_link_and_says_where_it_pointed()
    {
        var flip = FilestoreLink.Flip(Link, _sans.SanB, targetIsCompleteReplica: true);

        Assert.Equal(new LinkFlip(Link, _sans.SanA, _sans.SanB, true, $"{Link} switched from {_sans.SanA} to {_sans.SanB} (complete replica)"), flip);
        Assert.Equal(_sans.SanB, new FileInfo(Link).LinkTarget);
    }

    [Fact]
    public void Flipping_to_where_the_link_already_points_changes_nothing_and_says_so()
    {
        var flip = FilestoreLink.Flip(Link, _sans.SanA + "/", targetIsCompleteReplica: false);

        Assert.False(flip.Changed);
        Assert.Contains("already points at", flip.Description);
        Assert.Equal(_sans.SanA, new FileInfo(Link).LinkTarget);
    }

    [Fact]
    public void An_incomplete_replica_is_refused_and_the_link_left_alone()
    {
        var refusal = Assert.Throws<FilestoreLinkException>(() => FilestoreLink.Flip(Link, _sans.SanB, targetIsCompleteReplica: false));

        Assert.Contains($"refusing to switch {Link} to {_sans.SanB}", refusal.Message);
        Assert.Equal(_sans.SanA, new FileInfo(Link).LinkTarget);
    }

    [Fact]
    public void An_incomplete_replica_is_accepted_when_forced_and_the_flip_says_so()
    {
        var flip = FilestoreLink.Flip(Link, _sans.SanB, targetIsCompleteReplica: false, force: true);

        Assert.Contains("FORCED", flip.Description);
        Assert.Equal(_sans.SanB, new FileInfo(Link).LinkTarget);
    }

    [Fact]
    public void A_target_that_is_not_a_directory_is_refused_even_when_forced()
    {
        var missing = Path.Combine(_sans.Root, "san-c");
        var failure = Assert.Throws<FilestoreLinkException>(() => FilestoreLink.Flip(Link, missing, targetIsCompleteReplica: true, force: true));

        Assert.Equal($"cannot switch {Link} to {missing}: the target is not a directory", failure.Message);
        Assert.Equal(_sans.SanA, new FileInfo(Link).LinkTarget);
    }

    [Fact]
    public void A_link_that_is_a_real_directory_is_an_error_not_replaced()
    {
        var directory = Path.Combine(_sans.Root, "plain");
        Directory.CreateDirectory(directory);

        var failure = Assert.Throws<FilestoreLinkException>(() => FilestoreLink.Flip(directory, _sans.SanB, targetIsCompleteReplica: true));

        Assert.Contains("is not a symlink", failure.Message);
        Assert.True(Directory.Exists(directory) && new DirectoryInfo(directory).LinkTarget is null);
    }

    [Fact]
    public void A_missing_link_is_an_error()
    {
        var missing = Path.Combine(_sans.Root, "nowhere");
        Assert.Equal($"filestore link '{missing}' does not exist", Assert.Throws<FilestoreLinkException>(() => FilestoreLink.CurrentTarget(missing)).Message);
    }

    [TmpfsFact]
    public async Task A_rename_across_file_systems_fails_with_EXDEV_named_and_copies_nothing()
    {
        await using var tmpfs = await TmpfsMount.MountAsync(Path.Combine(_sans.Root, "other-fs"), "1m");
        var onTmpfs = Path.Combine(tmpfs.Path, "file");
        File.WriteAllText(onTmpfs, "content");
        var onDisk = _sans.A("file");

        var failure = Assert.Throws<SystemCallException>(() => AtomicRename.Replace(onTmpfs, onDisk));

        Assert.Equal("EXDEV", failure.ErrnoName);
        Assert.Contains($"rename of '{onTmpfs}' to '{onDisk}' failed: Invalid cross-device link (EXDEV)", failure.Message);
        Assert.Contains("nothing was copied", failure.Message);
        Assert.True(File.Exists(onTmpfs));
        Assert.False(File.Exists(onDisk));
    }
}
