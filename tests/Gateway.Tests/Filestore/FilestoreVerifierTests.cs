using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class FilestoreVerifierTests : IDisposable
{
    private readonly SanPair _sans = new();

    public void Dispose() => _sans.Dispose();

    private void OnBoth(string relative, string content)
    {
        foreach (var path in new[] { _sans.A(relative), _sans.B(relative) })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }
    }

    [Fact]
    public async Task Identical_trees_verify_with_their_counts_and_bytes()
    {
        OnBoth("d/one", "1");
        OnBoth("d/e/two", "22");
        File.SetLastWriteTimeUtc(_sans.B("d/one"), DateTime.UtcNow.AddDays(-3));

        var report = await FilestoreVerifier.CompareAsync(_sans.SanA, _sans.SanB);

        Assert.True(report.Identical, string.Join('\n', report.Describe()));
        Assert.Equal(new VerifiedTree(_sans.SanA, 2, 2, 0, 3), report.A);
        Assert.Equal(report.A with { Path = _sans.SanB }, report.B);
    }

    [Fact]
    public async Task Every_difference_is_listed_in_words()
    {
        OnBoth("same", "s");
        File.WriteAllText(_sans.A("only-a"), "a");
        File.WriteAllText(_sans.B("only-b"), "b");
        File.WriteAllText(_sans.A("size"), "1");
        File.WriteAllText(_sans.B("size"), "12");
        File.WriteAllText(_sans.A("content"), "xx");
        File.WriteAllText(_sans.B("content"), "yy");

        var report = await FilestoreVerifier.CompareAsync(_sans.SanA, _sans.SanB);
        var lines = report.Describe().ToList();

        Assert.False(report.Identical);
        Assert.Equal(
            [
                ("content", DifferenceKind.ContentDiffers), ("only-a", DifferenceKind.MissingOnTarget),
                ("only-b", DifferenceKind.ExtraOnTarget), ("size", DifferenceKind.SizeDiffers),
            ],
            report.Differences.Select(d => (d.Path, d.Kind)));
        Assert.Contains("4 difference(s):", lines);
        Assert.Contains(lines, l => l.StartsWith("  content differs: content (sha256 A ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  missing on B: only-a", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  missing on A: only-b", StringComparison.Ordinal));
        Assert.Contains("  size differs: size (A 1 bytes, B 2 bytes)", lines);
    }

    [Fact]
    public async Task Temp_files_of_the_replicator_and_in_progress_writes_are_not_part_of_a_replica()
    {
        OnBoth("kept", "k");
        File.WriteAllText(_sans.B(".kept.0123.repl-tmp"), "half a cop");
        File.WriteAllText(_sans.A(".upload.tmp"), "being written");

        var report = await FilestoreVerifier.CompareAsync(_sans.SanA, _sans.SanB);

        Assert.True(report.Identical, string.Join('\n', report.Describe()));
    }
}
