using Gateway.Cli.Api;
using Gateway.Cli.Rendering;
using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Rendering;

/// <summary>Operation reports and histories, from reports the real gateway wrote (and the announced coordinator shapes).</summary>
public sealed class ReportRendererTests
{
    private static string Render(string title, string sample) => Sample.Render(output => ReportRenderer.Write(output, title, Sample.Report(sample)));

    [Fact]
    public void APromotionReportShowsVerdictSummaryEveryStepAndTheUnreplicatedWal()
    {
        var report = Sample.Report("promote-report.json");
        var text = Render("promote database to B", "promote-report.json");

        Assert.StartsWith($"promote database to B: succeeded\n  {report.Summary}\n", text);
        Assert.Contains("AT       STEP", text);
        foreach (var step in report.Steps!)
        {
            var milliseconds = Format.Milliseconds(Format.TryTimeSpan(step.Duration)!.Value);
            Assert.Matches($@"\n  \+\d+\.\d\d s  {System.Text.RegularExpressions.Regex.Escape(step.Step!)} +{milliseconds} +{System.Text.RegularExpressions.Regex.Escape(step.Outcome!)}\n", text);
        }

        Assert.Contains("\n  +0.00 s  persist new epoch", text);
        Assert.Contains("\n  unreplicated WAL: 0 bytes (exact)\n", text);
        Assert.Contains("\n  epoch: 2\n", text);
        Assert.Matches(@"\n  total: \d+ ms\n", text);
        Assert.DoesNotContain("unreplicated bytes exact", text);
    }

    [Fact]
    public void ARefusedReportSaysFailedWithItsReasonAndNoStepsTable()
    {
        var text = Render("rejoin A as a standby (auto)", "rejoin-refused-report.json");

        Assert.StartsWith("rejoin A as a standby (auto): FAILED\n  site A is the primary; only the other node can rejoin\n", text);
        Assert.DoesNotContain("STEP", text);
        Assert.Contains("  primary: A\n", text);
    }

    [Fact]
    public void AnUnexactLossIsALowerBoundWithTheTimeTheOldPrimaryWasLastSeen()
    {
        var report = AdminJson.TryRead<OperationReport>("""
            {"succeeded": true, "summary": "forced", "unreplicatedBytes": 8192, "unreplicatedBytesExact": false,
             "oldPrimaryLastSeenAt": "2026-11-22T05:00:00+00:00", "steps": []}
            """)!;

        Assert.Equal(
            "unreplicated WAL: at least 8192 bytes; the old primary was last seen at 2026-11-22 05:00:00.000 +00:00, what it acknowledged after that is unaccounted for",
            ReportRenderer.UnreplicatedSentence(report));
    }

    [Fact]
    public void ASiteSwitchShowsItsStepsThenTheDatabasePromotionItCarriesThenTheFilesNotReplicated()
    {
        var text = Render("switchover to B", "switchover-report.json").ReplaceLineEndings("\n");

        Assert.StartsWith("switchover to B: succeeded\n  site B is active (epoch 2, switchover)", text);
        Assert.Matches(@"\n  \+0\.\d\d s  move the database to B +\d+ +site B is primary \(epoch 2, planned\); 0 WAL bytes not replicated\n", text);
        Assert.Matches(@"\n  \+0\.\d\d s  flip filestore links to B +\d+ +\S+ switched from \S+san-a to \S+san-b \(complete replica\)\n", text);
        Assert.Contains("\n  database: succeeded\n    site B is primary (epoch 2, planned); 0 WAL bytes not replicated\n", text);
        Assert.Matches(@"\n    \+0\.\d\d s  promote B +\d+ +promoted and verified: it commits a write\n", text);
        Assert.Contains("\n    unreplicated WAL: 0 bytes (exact)\n", text);
        Assert.Contains("\n  unreplicated files: none\n", text);
    }

    [Fact]
    public void ARefusedSwitchShowsTheStepItStoppedAt()
    {
        var text = Render("switchover to A", "switchover-refused-report.json").ReplaceLineEndings("\n");

        Assert.StartsWith("switchover to A: FAILED\n  switchover to A stopped at 'flip filestore links to A'", text);
        Assert.Matches(@"\n  \+0\.54 s  flip filestore links to A +9 +failed: refusing to switch ", text);
        Assert.Contains("\n  database: -\n", text);
    }

    [Fact]
    public void FieldsTheCliDoesNotModelAreShownToo()
    {
        var text = Render("switchover to B", "future-report-with-hooks.json").ReplaceLineEndings("\n");

        Assert.Contains("\n  hooks:\n    HOOK            COMMAND            EXIT CODE  OUTPUT\n    pre-switchover  stop-test-servers  0          stopped 2 servers\n", text);
    }

    [Fact]
    public void AHistoryIsOneLinePerReport()
    {
        var text = Sample.Render(output => HistoryRenderer.Write(output, Sample.History("database-history.json"), "promotion"));
        var lines = text.TrimEnd().Split('\n');

        Assert.Equal(1 + Sample.History("database-history.json").Count, lines.Length);
        Assert.Matches(@"^EPOCH +KIND +FROM +TO +STARTED AT +TOTAL +RESULT +SUMMARY$", lines[0]);
        Assert.Matches(@"^2 +promotion +A +B +2026-\S+ \S+ \S+ +\d+ ms +ok +site B is primary \(epoch 2, planned\); 0 WAL bytes not replicated$", lines[1]);
    }

    [Fact]
    public void AHistoryTakesTheKindFromTheReportAndShowsFailures()
    {
        var reports = Sample.History("history.json").Append(Sample.Report("switchover-refused-report.json")).ToList();
        var text = Sample.Render(output => HistoryRenderer.Write(output, reports, "operation"));

        Assert.Matches(@"\n2 +Switchover +A +B +\S+ \S+ \S+ +\d+ ms +ok +site B is active \(epoch 2, switchover\)", text);
        Assert.Matches(@"\n4 +Switchover +B +A +\S+ \S+ \S+ +0 ms +FAILED +switchover to A stopped at", text);
        Assert.Equal("no operations recorded yet\n", Sample.Render(output => HistoryRenderer.Write(output, [], "promotion")));
    }
}
