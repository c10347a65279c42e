using Gateway.Tests.Support;

namespace Gateway.Tests.Filestore;

/// <summary>
/// The gateway process itself, replicating its SAN A to SAN B, killed with SIGKILL while a large file is half
/// copied: no cleanup code runs, no page of the copy is spared. Real process, real files.
/// </summary>
[Integration]
public sealed class ReplicatorKilledMidCopyTests
{
    // Large enough that its copy takes a visible while (its temp file is polled every millisecond), small enough for a test.
    private const long LargeFileBytes = 512L * 1024 * 1024;
    private const int SmallFiles = 8;
    private const long SmallFileBytes = 256 * 1024;
    private static readonly TimeSpan ProcessPatience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Killed_with_SIGKILL_mid_copy_B_shows_no_partial_file_and_a_restarted_gateway_converges_and_removes_the_temp_files()
    {
        using var settings = FilestoreOnlyGateway.Settings();
        var sizes = new Dictionary<string, long> { ["large"] = LargeFileBytes };
        for (var i = 0; i < SmallFiles; i++)
        {
            sizes[$"small-{i}"] = SmallFileBytes;
        }

        foreach (var (name, size) in sizes)
        {
            ReplicaOnDisk.WriteRandom(Path.Combine(settings.SanA, name), size);
        }

        var config = settings.WriteJsonFile();
        var largeOnA = Path.Combine(settings.SanA, "large");
        using var watching = new CancellationTokenSource();
        var partialFiles = Task.Run(() => ReplicaOnDisk.PartialFilesUnderFinalNames(settings.SanA, settings.SanB, sizes, watching.Token));

        await using (var first = GatewayProcess.StartNew(settings, config))
        {
            var caught = await ReplicaOnDisk.CatchHalfWrittenCopyAsync(settings.SanB, "large", largeOnA, ProcessPatience, () => first.HasExited);
            Assert.False(first.HasExited, $"the gateway exited by itself:\n{first.Output}");
            Assert.True(caught, $"the large copy was never seen half written on B; gateway output:\n{first.Output}");
            first.Kill();
        }

        // What the crash left: the half-written temp file, and no final name for the large file.
        Assert.NotEmpty(LargeCopyTemps(settings));
        Assert.False(File.Exists(Path.Combine(settings.SanB, "large")), "the large file appeared under its final name before its copy was complete");

        await using (var second = GatewayProcess.StartNew(settings, config))
        {
            await Eventually.HoldsAsync(
                () => sizes.All(file => new FileInfo(Path.Combine(settings.SanB, file.Key)) is { Exists: true } copy && copy.Length == file.Value)
                    && ReplicaOnDisk.TempFiles(settings.SanB).Count == 0,
                () => $"B did not converge (temp files left: {ReplicaOnDisk.TempFiles(settings.SanB).Count}); gateway output:\n{second.Output}",
                ProcessPatience);
        }

        await watching.CancelAsync();
        Assert.Empty(await partialFiles);
        Assert.Equal(ReplicaOnDisk.FinalFilesWithHashes(settings.SanA), ReplicaOnDisk.FinalFilesWithHashes(settings.SanB));
    }

    private static IEnumerable<FileInfo> LargeCopyTemps(GatewaySettings settings) =>
        ReplicaOnDisk.TempFiles(settings.SanB).Where(temp => temp.Name.StartsWith(".large.", StringComparison.Ordinal));
}
