using Gateway.Coordinator.Audit;
using Gateway.Observability;
using Gateway.Tests.Observability;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Coordinator.Audit;

public sealed class AuditLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("audit-log-").FullName;
    private readonly GatewayMetrics _registry = new(NullLogger<GatewayMetrics>.Instance);
    private readonly AdminApiMetrics _metrics;

    public AuditLogTests() => _metrics = new AdminApiMetrics(_registry);

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
    }

    private string LogPath => Path.Combine(_directory, AuditLog.FileName);

    private AuditLog Open() => new(_directory, _metrics, NullLogger<AuditLog>.Instance);

    private static AuditEntry Entry(int n, int status = 200) =>
        new(new DateTimeOffset(2025, 1, 1, 0, 0, n, TimeSpan.Zero), "127.0.0.1", "POST", "/admin/drain", $"{{\"instance\":\"a{n}\"}}", false, status, $"call {n}");

    private async Task<double> FailuresAsync() => MetricsScrape.Parse(await _registry.ScrapeAsync()).Value("gateway_admin_audit_failures_total");

    [Fact]
    public void Each_entry_is_one_json_line_and_the_last_ones_read_back_oldest_first()
    {
        var log = Open();
        for (var n = 1; n <= 5; n++)
        {
            Assert.True(log.Append(Entry(n)));
        }

        Assert.Equal(5, File.ReadAllLines(LogPath).Length);
        Assert.Equal(["call 3", "call 4", "call 5"], log.ReadLast(3).Select(e => e.Result));
        Assert.Equal(Entry(1), log.ReadLast(10)[0]);
    }

    [Fact]
    public void A_line_torn_by_a_crash_is_skipped_and_the_next_entry_starts_on_a_line_of_its_own()
    {
        Open().Append(Entry(1));
        File.AppendAllText(LogPath, "{\"time\":\"2025-01-01T00:00:0");

        var reopened = Open();
        reopened.Append(Entry(2));

        Assert.Equal(["call 1", "call 2"], reopened.ReadLast(10).Select(e => e.Result));
    }

    [Fact]
    public async Task A_failed_append_is_counted_keeps_the_log_broken_and_is_written_once_the_file_can_be_written_again()
    {
        var log = Open();
        log.Append(Entry(1));
        File.Delete(LogPath);
        Directory.CreateDirectory(LogPath); // even root cannot append to a directory

        Assert.False(log.Append(Entry(2)));
        Assert.False(log.EnsureWritable(out var error));
        Assert.NotNull(error);
        Assert.Equal(1, await FailuresAsync());

        Directory.Delete(LogPath);
        Assert.True(log.EnsureWritable(out _));
        Assert.True(log.Append(Entry(3)));
        Assert.Equal(["call 2", "call 3"], log.ReadLast(10).Select(e => e.Result));
    }

    [Fact]
    public void Reading_a_log_never_written_gives_nothing()
    {
        Assert.Empty(Open().ReadLast(10));
    }
}
