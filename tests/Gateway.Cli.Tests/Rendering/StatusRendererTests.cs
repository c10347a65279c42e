using Gateway.Cli.Api;
using Gateway.Cli.Rendering;
using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Rendering;

/// <summary>The status tables, from JSON the real gateway produced (and, for sections still being built, the announced shapes).</summary>
public sealed class StatusRendererTests
{
    private static string Render(string sample) => Sample.Render(output => StatusRenderer.Write(output, Sample.Status(sample)));

    private static string LineStartingWith(string text, string start) =>
        text.Split('\n').Select(line => line.TrimEnd('\r')).SingleOrDefault(line => line.TrimStart().StartsWith(start, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no line starts with '{start}' in:\n{text}");

    private static string[] Cells(string line) => line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public void HeaderLineNamesEpochActiveSiteAndWhetherASwitchRuns()
    {
        Assert.StartsWith("epoch 1   active site A   not switching", Render("status-both-nodes.json"));
        Assert.StartsWith("epoch 2   active site A   SWITCHING", Render("status-during-switchover.json"));
    }

    [Fact]
    public void InstancesAreOneRowEachWithSiteUrlHealthAndInFlight()
    {
        var text = Render("status-both-nodes.json");
        var status = Sample.Status("status-both-nodes.json");

        Assert.Equal(["ID", "SITE", "URL", "HEALTH", "IN-FLIGHT"], Cells(LineStartingWith(text, "ID ")));
        Assert.Equal(["a1", "A", status.Instances![0].Url!, "Healthy", "0"], Cells(LineStartingWith(text, "a1 ")));
        Assert.Equal(["b1", "B", status.Instances![1].Url!, "Healthy", "0"], Cells(LineStartingWith(text, "b1 ")));
    }

    [Fact]
    public void DatabaseShowsPrimaryFencingEndpointDecisionsAndEveryNode()
    {
        var text = Render("status-both-nodes.json");
        var database = Sample.Status("status-both-nodes.json").Database!;

        Assert.Contains("Database   primary A   fenced none", text);
        Assert.Equal(["write", "Forward", "A", $"127.0.0.1:{database.Write!.Port}", "primary of epoch 1"], Cells(LineStartingWith(text, "write ")));
        Assert.Equal(["read", "Forward", "B", $"127.0.0.1:{database.Read!.Port}", "healthy standby"], Cells(LineStartingWith(text, "read ")));
        Assert.Equal(["SITE", "REACHABLE", "ROLE", "TIMELINE", "LAG BYTES", "LAG S", "READ-ONLY", "FENCED", "SYNC NAMES"], Cells(LineStartingWith(text, "SITE ")));
        Assert.Equal(["A", "yes", "primary", "1", "-", "-", "no", "no", "-"], Cells(LineStartingWith(text, "A    ")));
        var standby = database.Nodes![1];
        Assert.Equal(["B", "yes", "standby", "1", "0", Format.Seconds(standby.ReplayLagSeconds), "no", "no", "-"], Cells(LineStartingWith(text, "B    ")));
    }

    [Fact]
    public void UnreachableNodesShowTheirErrorUnderTheTableAndTheRefusedEndpointsTheirReason()
    {
        var text = Render("status-database-down.json");

        Assert.Equal(["write", "Hold", "-", "-", "primary A unreachable: waiting for it to return or for a failover"], Cells(LineStartingWith(text, "write ")));
        Assert.Equal(["read", "Refuse", "-", "-"], Cells(LineStartingWith(text, "read "))[..4]);
        Assert.Contains("  A: Failed to connect to 127.0.0.1:", text);
        Assert.Contains("  B: Failed to connect to 127.0.0.1:", text);
    }

    [Fact]
    public void AFencedNodeIsListedInTheHeaderAndItsRow()
    {
        var text = Render("status-after-promote.json");

        Assert.Contains("Database   primary B   fenced A", text);
        Assert.Equal("yes", Cells(LineStartingWith(text, "A    "))[7]);
    }

    [Fact]
    public void AlarmsAreATableOrNone()
    {
        Assert.Contains("Alarms: none", Render("status-both-nodes.json"));

        var status = AdminJson.TryRead<StatusDocument>("""
            {"alarms": [{"key": "database-failover-refused", "raisedAt": "2026-11-22T04:06:05.825+00:00",
                         "message": "primary A and standby B are both unreachable: no automatic promotion after a double failure"}]}
            """)!;
        var text = Sample.Render(output => StatusRenderer.Write(output, status));
        Assert.Equal(["KEY", "RAISED AT", "MESSAGE"], Cells(LineStartingWith(text, "KEY ")));
        Assert.Equal(["database-failover-refused", "2026-11-22 04:06:05.825 +00:00", "primary A and standby B are both unreachable: no automatic promotion after a double failure"],
            Cells(LineStartingWith(text, "database-failover-refused")));
    }

    [Fact]
    public void DrainedInstancesSayItInTheirHealthCellAndTheDrainsAreOneLine()
    {
        var status = AdminJson.TryRead<StatusDocument>("""
            {"instances": [{"id": "a1", "site": "A", "url": "http://127.0.0.1:5101", "health": "Healthy", "inFlight": 2, "drained": true},
                           {"id": "b1", "site": "B", "url": "http://127.0.0.1:5201", "health": "Unhealthy", "inFlight": 0, "drained": false}],
             "drained": {"sites": ["A"], "instances": ["b2"]}}
            """)!;
        var text = Sample.Render(output => StatusRenderer.Write(output, status));

        Assert.Equal(["a1", "A", "http://127.0.0.1:5101", "Healthy, drained", "2"], Cells(LineStartingWith(text, "a1 ")));
        Assert.Equal(["b1", "B", "http://127.0.0.1:5201", "Unhealthy", "0"], Cells(LineStartingWith(text, "b1 ")));
        Assert.Contains("\nDrained: site A, instance b2 (no new requests; wait for in-flight to reach 0)\n", text.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("\nDrained\n", text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void FilestoreWritesAndTheRunningOperationAreShownGenerically()
    {
        var text = Render("status-during-switchover.json").ReplaceLineEndings("\n");

        Assert.Contains("\nFilestore\n  direction:\n    source site: A\n", text);
        Assert.Contains("\n  state: Streaming\n  pending files: 0\n  pending bytes: 0\n", text);
        Assert.Contains("\n  last reconcile:\n    trigger: Start\n", text);
        Assert.Contains("\nWrites\n  held: yes\n  waiting: 0\n  in flight: 0\n", text);
        Assert.Contains("\nCurrent operation\n  steps:\n    STEP ", text);
        var step = Cells(LineStartingWith(text, "persist new epoch"));
        Assert.Equal(["persist new epoch", "epoch 2: active site will be B (operator: planned switchover)"], [step[0], step[^1]]);
        Assert.Matches(@"^\d+ ms$", step[^2]);
    }

    [Fact]
    public void SectionsANewerGatewayAddsAreShownToo()
    {
        var status = AdminJson.TryRead<StatusDocument>("""
            {"epoch": 1, "predictedRpo": {"walBytes": 0, "files": 3}, "sites": [{"id": "A", "healthy": true}, {"id": "B", "healthy": false}]}
            """)!;
        var text = Sample.Render(output => StatusRenderer.Write(output, status)).ReplaceLineEndings("\n");

        Assert.Contains("\nPredicted rpo\n  wal bytes: 0\n  files: 3\n", text);
        Assert.Contains("\nSites\n  ID  HEALTHY\n  A   yes\n  B   no\n", text);
    }

    [Fact]
    public void MissingSectionsAndFieldsReadAsDashesInsteadOfFailing()
    {
        var status = AdminJson.TryRead<StatusDocument>("""{"epoch": 7, "database": {"nodes": [{"site": "A"}]}, "currentOperation": null}""")!;
        var text = Sample.Render(output => StatusRenderer.Write(output, status));

        Assert.StartsWith("epoch 7   active site -   switching unknown", text);
        Assert.Contains("Instances\n  none configured", text);
        Assert.Equal(["A", "-", "-", "-", "-", "-", "-", "-", "-"], Cells(LineStartingWith(text, "A ")));
        Assert.Contains("Current operation: none", text);
    }

    [Fact]
    public void AStatusOfAnotherShapeIsNotReadAsOne()
    {
        // The status command then falls back to the generic outline instead of failing.
        Assert.Null(AdminJson.TryRead<StatusDocument>("""{"epoch": "seven"}"""));
    }
}
