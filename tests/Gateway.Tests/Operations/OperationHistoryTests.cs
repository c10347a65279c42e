using Gateway.Operations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Gateway.Tests.Operations;

/// <summary>history.jsonl in a temp state directory: what a restart reads back, and what a crash may leave.</summary>
public sealed class OperationHistoryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-history-").FullName;
    private readonly FakeLogger<OperationHistory> _logger = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed record Report(string Summary, int Epoch);

    private string FilePath => Path.Combine(_directory, OperationHistory.FileName);

    private OperationHistory Open() => new(_directory, _logger);

    [Fact]
    public void Reports_are_read_back_by_kind_oldest_first_after_a_restart()
    {
        var history = Open();
        history.Record(HistoryKinds.SiteSwitch, new Report("switchover to B", 2));
        history.Record(HistoryKinds.Promotion, new Report("promotion of B", 2));
        history.Record(HistoryKinds.SiteSwitch, new Report("switchover to A", 3));

        var reopened = Open();

        Assert.Equal([new Report("switchover to B", 2), new Report("switchover to A", 3)], reopened.Read<Report>(HistoryKinds.SiteSwitch));
        Assert.Equal([new Report("promotion of B", 2)], reopened.Read<Report>(HistoryKinds.Promotion));
        Assert.Empty(reopened.Read<Report>(HistoryKinds.Rejoin));
    }

    [Fact]
    public void A_limit_keeps_the_newest_reports()
    {
        var history = Open();
        for (var epoch = 1; epoch <= 5; epoch++)
        {
            history.Record(HistoryKinds.Rejoin, new Report($"rejoin {epoch}", epoch));
        }

        Assert.Equal([4, 5], history.Read<Report>(HistoryKinds.Rejoin, limit: 2).Select(report => report.Epoch));
    }

    [Fact]
    public void A_first_start_has_no_history_and_creates_the_state_directory()
    {
        var directory = Path.Combine(_directory, "new", "state");

        var history = new OperationHistory(directory, _logger);

        Assert.Empty(history.Read<Report>(HistoryKinds.SiteSwitch));
        Assert.True(Directory.Exists(directory));
    }

    [Fact]
    public void A_last_line_torn_by_a_crash_is_skipped_and_the_next_report_starts_a_line_of_its_own()
    {
        Open().Record(HistoryKinds.Promotion, new Report("promotion of B", 2));
        File.AppendAllText(FilePath, """{"kind":"promotion","report":{"summary":"promotion of""");

        var afterCrash = Open();
        Assert.Equal([new Report("promotion of B", 2)], afterCrash.Read<Report>(HistoryKinds.Promotion));
        afterCrash.Record(HistoryKinds.Promotion, new Report("promotion of A", 3));

        Assert.Equal([new Report("promotion of B", 2), new Report("promotion of A", 3)], Open().Read<Report>(HistoryKinds.Promotion));
        var lines = File.ReadAllLines(FilePath);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("\"summary\":\"promotion of", lines[1]);
    }

    [Fact]
    public void A_report_that_cannot_be_appended_is_logged_whole_and_still_listed_until_the_process_ends()
    {
        var history = Open();
        // A directory where the file should be: every append fails, as on a disk gone read-only.
        Directory.CreateDirectory(FilePath);

        history.Record(HistoryKinds.SiteSwitch, new Report("failover to B", 4));

        Assert.Equal([new Report("failover to B", 4)], history.Read<Report>(HistoryKinds.SiteSwitch));
        var logged = _logger.LatestRecord;
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains(FilePath, logged.Message);
        Assert.Contains("\"summary\":\"failover to B\"", logged.Message);
    }
}
