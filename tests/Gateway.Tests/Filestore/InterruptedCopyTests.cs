using System.Security.Cryptography;

namespace Gateway.Tests.Filestore;

public sealed class InterruptedCopyTests
{
    // One file large enough that its copy is surely under way when the replicator is stopped, and a few others.
    private const int LargeFileBytes = 160 * 1024 * 1024;
    private const int SmallerFileBytes = 16 * 1024 * 1024;
    private const int SmallerFiles = 3;

    /// <summary>
    /// A replicator stopped in the middle of large copies, then a leftover temp file planted as a kill -9 would leave
    /// it (in-process, no cleanup can be skipped for real). Throughout, B never shows a final name with partial
    /// content; after a restart, B converges and no temp file is left.
    /// </summary>
    [Fact]
    public async Task Stopped_mid_copy_B_shows_no_partial_file_under_a_final_name_and_a_restart_converges()
    {
        using var sans = new SanPair();
        var sizes = new Dictionary<string, long> { ["large"] = LargeFileBytes };
        for (var i = 0; i < SmallerFiles; i++)
        {
            sizes[$"f{i}"] = SmallerFileBytes;
        }

        foreach (var (name, size) in sizes)
        {
            WriteRandom(sans.A(name), size);
        }

        using var watching = new CancellationTokenSource();
        var partialFiles = Task.Run(() => PartialFilesUnderFinalNames(sans, sizes, watching.Token));

        await using (var first = sans.Start())
        {
            await Eventually.HoldsAsync(() => TempFiles(sans).Any(), () => $"no copy was ever under way: {first.Status}");
        }

        Assert.False(File.Exists(sans.B("large")), "the large copy finished before the stop; nothing was interrupted");
        var leftover = sans.B($".large.{Guid.NewGuid():N}.repl-tmp");
        WriteRandom(leftover, LargeFileBytes / 3);

        await using (var second = sans.Start())
        {
            await second.WaitUntilCaughtUpAsync(CancellationToken.None);
            await Eventually.ReplicatedAsync(sans, second);
        }

        await watching.CancelAsync();
        Assert.Empty(await partialFiles);
        Assert.Empty(TempFiles(sans));
    }

    private static void WriteRandom(string path, long size)
    {
        var chunk = new byte[1024 * 1024];
        var random = new Random(path.Length);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        for (long written = 0; written < size; written += chunk.Length)
        {
            random.NextBytes(chunk);
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, size - written));
        }
    }

    private static IEnumerable<FileInfo> TempFiles(SanPair sans) =>
        new DirectoryInfo(sans.SanB).EnumerateFiles(".*.repl-tmp", new EnumerationOptions { AttributesToSkip = 0 });

    /// <summary>
    /// Watches B until told to stop: a final name must hold all of A's content from the moment it appears (A does not
    /// change here). Checked by size each time and by SHA-256 on first sight, since a preallocated file has its full
    /// size before its bytes.
    /// </summary>
    private static List<string> PartialFilesUnderFinalNames(SanPair sans, Dictionary<string, long> sizes, CancellationToken stop)
    {
        var expected = sizes.Keys.ToDictionary(name => name, name => Sha256(sans.A(name)));
        var verified = new HashSet<string>();
        var partial = new List<string>();
        for (; !stop.IsCancellationRequested; Thread.Sleep(1))
        {
            foreach (var file in new DirectoryInfo(sans.SanB).EnumerateFiles("*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                if (!sizes.TryGetValue(file.Name, out var size))
                {
                    continue;
                }

                if (file.Length != size)
                {
                    partial.Add($"{file.Name}: {file.Length} of {size} bytes");
                }
                else if (verified.Add(file.Name) && Sha256(file.FullName) != expected[file.Name])
                {
                    partial.Add($"{file.Name}: full size but not yet A's content");
                }
            }
        }

        return partial;
    }

    private static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}
