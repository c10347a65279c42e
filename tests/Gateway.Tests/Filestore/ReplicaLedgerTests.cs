using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class ReplicaLedgerTests : IDisposable
{
    private static readonly DateTime Noon = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly string _directory = Directory.CreateTempSubdirectory("ledger-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_recorded_version_and_the_one_before_it_match_and_nothing_else_does()
    {
        using var ledger = ReplicaLedger.InMemory();
        ledger.Record("f", ReplicaEntry.File(1, Noon));
        ledger.Record("f", ReplicaEntry.File(2, Noon.AddSeconds(1)));

        Assert.True(ledger.Matches("f", ReplicaEntry.File(1, Noon)));
        Assert.True(ledger.Matches("f", ReplicaEntry.File(2, Noon.AddSeconds(1))));
        Assert.False(ledger.Matches("f", ReplicaEntry.File(2, Noon)));
        Assert.False(ledger.Matches("g", ReplicaEntry.File(1, Noon)));

        ledger.Record("f", ReplicaEntry.File(3, Noon.AddSeconds(2)));
        Assert.False(ledger.Matches("f", ReplicaEntry.File(1, Noon)));

        // Deleting the version on the target forgets that version only: a copy of the other may still land.
        ledger.Forget("f", ReplicaEntry.File(2, Noon.AddSeconds(1)));
        Assert.True(ledger.Matches("f", ReplicaEntry.File(3, Noon.AddSeconds(2))));
        ledger.Forget("f", ReplicaEntry.File(3, Noon.AddSeconds(2)));
        Assert.Null(ledger.Agreed("f"));
    }

    [Fact]
    public void What_was_recorded_survives_a_restart_and_a_torn_last_journal_line_is_ignored()
    {
        using (var ledger = ReplicaLedger.Open(_directory, "A-B"))
        {
            ledger.Record("kept", ReplicaEntry.File(5, Noon));
            ledger.Record("dir/link", ReplicaEntry.Symlink("../kept"));
            ledger.Record("gone", ReplicaEntry.File(1, Noon));
            ledger.Forget("gone", ReplicaEntry.File(1, Noon));
            ledger.Record("two", ReplicaEntry.File(1, Noon));
            ledger.Record("two", ReplicaEntry.File(2, Noon));
            ledger.Forget("two", ReplicaEntry.File(1, Noon));
            ledger.Flush();
        }

        File.AppendAllText(Path.Combine(_directory, "A-B.ledger.journal"), "{\"p\":\"torn");

        using var reopened = ReplicaLedger.Open(_directory, "A-B");
        Assert.True(reopened.Matches("kept", ReplicaEntry.File(5, Noon)));
        Assert.True(reopened.Matches("dir/link", ReplicaEntry.Symlink("../kept")));
        Assert.False(reopened.Matches("gone", ReplicaEntry.File(1, Noon)));
        Assert.True(reopened.Matches("two", ReplicaEntry.File(2, Noon)));
        Assert.False(reopened.Matches("two", ReplicaEntry.File(1, Noon)));
        Assert.Equal(3, reopened.Count);
    }

    [Fact]
    public void A_damaged_snapshot_is_an_error_naming_the_file_never_an_empty_ledger()
    {
        File.WriteAllText(Path.Combine(_directory, "A-B.ledger"), "not json\n");

        var error = Assert.Throws<InvalidDataException>(() => ReplicaLedger.Open(_directory, "A-B"));

        Assert.Contains("A-B.ledger", error.Message);
        Assert.Contains("line 1", error.Message);
    }

    [Fact]
    public void A_reconcile_records_pairs_seen_alike_and_forgets_a_path_only_when_two_scans_in_a_row_found_it_on_neither_side()
    {
        using var ledger = ReplicaLedger.Open(_directory, "A-B");
        ledger.Record("vanished", ReplicaEntry.File(1, Noon));
        var both = new Dictionary<string, ReplicaEntry> { ["same"] = ReplicaEntry.File(9, Noon) };
        var snapshot = new DirectorySnapshot(both, []);

        ledger.Reconcile(snapshot, snapshot);
        Assert.True(ledger.Matches("same", ReplicaEntry.File(9, Noon)));
        Assert.True(ledger.Matches("vanished", ReplicaEntry.File(1, Noon)), "forgotten after one scan: a copy under way during it would lose its record");

        ledger.Reconcile(snapshot, snapshot);
        Assert.False(ledger.Matches("vanished", ReplicaEntry.File(1, Noon)));

        using var reopened = ReplicaLedger.Open(_directory + "/../" + Path.GetFileName(_directory), "A-B");
        Assert.True(reopened.Matches("same", ReplicaEntry.File(9, Noon)));
    }

    [Fact]
    public void A_rename_carries_the_records_of_a_directory_to_its_new_name_without_replacing_fresher_ones()
    {
        using var ledger = ReplicaLedger.InMemory();
        ledger.Record("d/a", ReplicaEntry.File(1, Noon));
        ledger.Record("d/sub/b", ReplicaEntry.File(2, Noon));
        ledger.Record("dx", ReplicaEntry.File(3, Noon));
        ledger.Record("e/a", ReplicaEntry.File(7, Noon));

        ledger.Move("d", "e");

        Assert.True(ledger.Matches("e/sub/b", ReplicaEntry.File(2, Noon)));
        Assert.True(ledger.Matches("e/a", ReplicaEntry.File(7, Noon)));
        Assert.False(ledger.Matches("e/a", ReplicaEntry.File(1, Noon)));
        Assert.False(ledger.Matches("ex", ReplicaEntry.File(3, Noon)));
        Assert.True(ledger.Matches("d/a", ReplicaEntry.File(1, Noon)), "the old name keeps its record for a copy still under way");
    }
}
