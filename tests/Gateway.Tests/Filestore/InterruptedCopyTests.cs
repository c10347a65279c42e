using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class InterruptedCopyTests
{
    private const int LargeFiles = 4;
    private const int LargeFileBytes = 32 * 1024 * 1024;

    /// <summary>
    /// A replicator stopped in the middle of large copies, then a leftover temp file planted as a kill -9 would leave
    /// it (in-process, no cleanup can be skipped for real). Throughout, B never shows a final name with partial
    /// content; after a restart, B converges and no temp file is left.
    /// </summary>
    [Fact]
    public async Task Stopped_mid_copy_B_shows_no_partial_file_under_a_final_name_and_a_restart_converges()
    {
        using var sans = new SanPair();
        var content = new byte[LargeFileBytes];
        Directory.CreateDirectory(sans.A("large"));
        for (var i = 0; i < LargeFiles; i++)
        {
            new Random(i).NextBytes(content);
            File.WriteAllBytes(sans.A($"large/f{i}"), content);
        }

        using var watching = new CancellationTokenSource();
        var partialFiles = Task.Run(() => PartialFilesUnderFinalNames(sans, watching.Token));

        await using (var first = sans.Start())
        {
            await Eventually.HoldsAsync(() => TempFiles(sans).Any(temp => temp.Length > 0), () => $"no copy was ever under way: {first.Status}");
        }

        var leftover = sans.B($"large/.f0.{Guid.NewGuid():N}.repl-tmp");
        File.WriteAllBytes(leftover, content.AsSpan(0, LargeFileBytes / 3).ToArray());

        await using (var second = sans.Start())
        {
            await second.WaitUntilCaughtUpAsync(CancellationToken.None);
            await Eventually.ReplicatedAsync(sans, second);
            Assert.Equal(LargeFiles, second.Status.InitialSync.FilesDone);
        }

        await watching.CancelAsync();
        Assert.Empty(await partialFiles);
        Assert.Empty(TempFiles(sans));
    }

    private static IEnumerable<FileInfo> TempFiles(SanPair sans) => Directory.Exists(sans.B("large"))
        ? new DirectoryInfo(sans.B("large")).EnumerateFiles(".*.repl-tmp", new EnumerationOptions { AttributesToSkip = 0 })
        : [];

    /// <summary>Watches B until told to stop: every final name must have exactly A's size (A does not change here).</summary>
    private static List<string> PartialFilesUnderFinalNames(SanPair sans, CancellationToken stop)
    {
        var partial = new List<string>();
        for (; !stop.IsCancellationRequested; Thread.Sleep(1))
        {
            if (!Directory.Exists(sans.B("large")))
            {
                continue;
            }

            foreach (var file in new DirectoryInfo(sans.B("large")).EnumerateFiles("*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                if (!file.Name.EndsWith(".repl-tmp", StringComparison.Ordinal) && file.Length != LargeFileBytes)
                {
                    partial.Add($"{file.Name}: {file.Length} of {LargeFileBytes} bytes");
                }
            }
        }

        return partial;
    }
}
