using System.Buffers;
using Gateway.Database.Sessions;
using static Gateway.Tests.Database.Sessions.PgMessages;

namespace Gateway.Tests.Database.Sessions;

public sealed class PgMessageCutterTests
{
    private const int Limit = 4096;

    /// <summary>Cuts a byte stream the way the pumps do: returns the cuts, stopping at the first violation.</summary>
    private static List<PgCut> CutAll(PgMessageCutter cutter, byte[] bytes)
    {
        var cuts = new List<PgCut>();
        var buffer = new ReadOnlySequence<byte>(bytes);
        while (true)
        {
            var cut = cutter.Next(buffer);
            cuts.Add(cut);
            if (cut.Kind is PgCutKind.NeedMore or PgCutKind.Violation)
            {
                return cuts;
            }

            buffer = buffer.Slice(cut.Length);
        }
    }

    [Fact]
    public void Whole_messages_are_cut_one_by_one_and_a_partial_one_waits()
    {
        var query = Query("SELECT 1");
        var cuts = CutAll(PgMessageCutter.ForClient(Limit), [.. query, .. Sync(), .. query[..7]]);

        Assert.Equal([(PgCutKind.Message, (byte)'Q', (long)query.Length), (PgCutKind.Message, (byte)'S', 5), (PgCutKind.NeedMore, (byte)'Q', 0)],
            cuts.Select(c => (c.Kind, c.Type, c.Length)));
    }

    [Fact]
    public void A_message_over_the_limit_passes_in_pieces_without_being_held_whole()
    {
        var cutter = PgMessageCutter.ForClient(Limit);
        var big = PgWire.Message(PgWire.Frontend.CopyData, new byte[3 * Limit]);
        var first = cutter.Next(new ReadOnlySequence<byte>(big.AsMemory(0, Limit)));
        Assert.Equal((PgCutKind.Piece, true, (long)Limit), (first.Kind, first.FirstPiece, first.Length));
        Assert.True(cutter.InsideMessage);

        var second = cutter.Next(new ReadOnlySequence<byte>(big.AsMemory(Limit)));
        Assert.Equal((PgCutKind.Piece, false, (long)(big.Length - Limit)), (second.Kind, second.FirstPiece, second.Length));
        Assert.False(cutter.InsideMessage);
        Assert.Equal(PgCutKind.NeedMore, cutter.Next(ReadOnlySequence<byte>.Empty).Kind);
    }

    [Fact]
    public void A_big_message_waits_until_its_start_can_be_read_whole()
    {
        var big = PgWire.Message(PgWire.Frontend.Bind, new byte[3 * Limit]);

        Assert.Equal(PgCutKind.NeedMore, PgMessageCutter.ForClient(Limit).Next(new ReadOnlySequence<byte>(big.AsMemory(0, 100))).Kind);
    }

    [Theory]
    [InlineData((byte)'Q', 3)]
    [InlineData((byte)'Q', -1)]
    [InlineData((byte)'Q', int.MaxValue)]
    [InlineData((byte)'S', 20_000)]
    [InlineData((byte)'X', 10_001)]
    [InlineData((byte)'Z', 5)]
    [InlineData((byte)0, 4)]
    [InlineData((byte)'G', 4)]
    public void A_client_message_of_an_unknown_type_or_an_impossible_length_is_a_violation(byte type, int length)
    {
        var cut = PgMessageCutter.ForClient(Limit).Next(new ReadOnlySequence<byte>([.. Header(type, length), .. new byte[16]]));

        Assert.Equal(PgCutKind.Violation, cut.Kind);
        Assert.NotNull(cut.Violation);
    }

    [Fact]
    public void Server_messages_have_their_own_types()
    {
        Assert.Equal(PgCutKind.Message, PgMessageCutter.ForServer(Limit).Next(new ReadOnlySequence<byte>(ReadyForQuery('I'))).Kind);
        Assert.Equal(PgCutKind.Violation, PgMessageCutter.ForServer(Limit).Next(new ReadOnlySequence<byte>(Query("x"))).Kind);
    }

    [Fact]
    public void Garbage_after_a_valid_message_is_cut_as_a_violation_never_an_exception()
    {
        var random = new Random(55315);
        var garbage = new byte[64];
        var violations = 0;
        for (var i = 0; i < 5000; i++)
        {
            random.NextBytes(garbage);
            var cuts = CutAll(PgMessageCutter.ForClient(Limit), [.. Sync(), .. garbage]);

            Assert.Equal(PgCutKind.Message, cuts[0].Kind);
            Assert.All(cuts, c => Assert.True(c.Kind == PgCutKind.Violation || c.Length <= 5 + garbage.Length));
            violations += cuts[^1].Kind == PgCutKind.Violation ? 1 : 0;
        }

        // Random bytes are nearly never a valid header: type and length both have to fit.
        Assert.True(violations > 4900, $"{violations} of 5000 random tails were violations");
    }
}
