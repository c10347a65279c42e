using Gateway.Filestore;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filestore;

/// <summary>The mass-delete breaker on a fake clock, its marker in a temp directory.</summary>
public sealed class DeleteBreakerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-breaker-").FullName;
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Marker => Path.Combine(_directory, "A-B.deletes-held");

    private DeleteBreaker Breaker(int maxPerMinute = 3) => new(maxPerMinute, _time, Marker);

    private static List<bool> Delete(DeleteBreaker breaker, params string[] paths) => paths.Select(breaker.TryDelete).ToList();

    [Fact]
    public void Up_to_the_limit_deletes_go_ahead_within_a_minute_and_leave_the_breaker_closed()
    {
        var breaker = Breaker();

        Assert.Equal([true, true, true], Delete(breaker, "a", "b", "c"));
        Assert.False(breaker.IsOpen);
        Assert.Null(breaker.Describe());
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public void The_next_delete_in_the_same_minute_opens_the_breaker_is_held_and_leaves_a_marker()
    {
        var breaker = Breaker();
        Delete(breaker, "a", "b", "c");
        _time.Advance(TimeSpan.FromSeconds(59));

        Assert.False(breaker.TryDelete("d"));

        Assert.True(breaker.IsOpen);
        var held = breaker.Describe()!;
        Assert.Equal((Start.AddSeconds(59), 1, 3), (held.Since, held.Count, held.MaxPerMinute));
        Assert.Equal(["d"], held.FirstPaths);
        Assert.True(File.Exists(Marker));
    }

    [Fact]
    public void The_minute_slides_a_delete_older_than_a_minute_no_longer_counts()
    {
        var breaker = Breaker();
        breaker.TryDelete("a");
        _time.Advance(TimeSpan.FromSeconds(30));
        Delete(breaker, "b", "c");
        _time.Advance(TimeSpan.FromSeconds(30));

        // "a" is a minute old: one more fits; "b" and "c" are not, so the one after opens the breaker.
        Assert.True(breaker.TryDelete("d"));
        Assert.False(breaker.TryDelete("e"));
        Assert.Equal(Start.AddMinutes(1), breaker.Describe()?.Since);
    }

    [Fact]
    public void An_open_breaker_holds_every_delete_however_long_it_waits_and_lists_the_first_ten_in_order()
    {
        var breaker = Breaker();
        Delete(breaker, "a", "b", "c");
        var held = Enumerable.Range(0, 12).Select(i => $"held/{i:00}").Reverse().ToArray();

        breaker.TryDelete(held[0]);
        _time.Advance(TimeSpan.FromHours(1));

        Assert.All(Delete(breaker, held[1..]), Assert.False);
        var described = breaker.Describe()!;
        Assert.Equal((Start, 12), (described.Since, described.Count));
        Assert.Equal(held.Order().Take(10), described.FirstPaths);
    }

    [Fact]
    public void Release_closes_the_breaker_hands_back_the_held_deletes_and_removes_the_marker()
    {
        var breaker = Breaker(maxPerMinute: 2);
        Delete(breaker, "a", "b", "e", "d", "c");

        var released = breaker.Release();

        Assert.Equal(["c", "d", "e"], released);
        Assert.False(breaker.IsOpen);
        Assert.Null(breaker.Describe());
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public void Released_deletes_go_ahead_beyond_the_limit_once_and_do_not_count_against_it()
    {
        var breaker = Breaker(maxPerMinute: 2);
        Delete(breaker, "a", "b", "c", "d", "e");
        breaker.Release();

        Assert.Equal([true, true, true], Delete(breaker, "c", "d", "e"));
        Assert.Equal([true, true], Delete(breaker, "f", "g"));
        Assert.False(breaker.IsOpen);

        // Released once only: "c" again counts, and past the limit it opens the breaker anew.
        Assert.False(breaker.TryDelete("c"));
        Assert.True(breaker.IsOpen);
    }

    [Fact]
    public void The_marker_keeps_the_breaker_open_across_a_restart_since_the_marker_was_written()
    {
        var before = Breaker();
        Delete(before, "a", "b", "c", "d");

        var restarted = Breaker();

        Assert.True(restarted.IsOpen);
        var held = restarted.Describe()!;
        Assert.Equal((new DateTimeOffset(File.GetLastWriteTimeUtc(Marker)), 0), (held.Since, held.Count));
        Assert.False(restarted.TryDelete("e"));
        Assert.Equal(["e"], restarted.Release());
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public void A_limit_of_zero_means_no_breaker()
    {
        var breaker = Breaker(maxPerMinute: 0);

        Assert.All(Delete(breaker, [.. Enumerable.Range(0, 1000).Select(i => $"f{i}")]), Assert.True);
        Assert.False(breaker.IsOpen);
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public void Without_a_marker_path_the_breaker_works_in_memory_alone()
    {
        var breaker = new DeleteBreaker(1, _time, markerPath: null);

        Assert.Equal([true, false], Delete(breaker, "a", "b"));
        Assert.True(breaker.IsOpen);
        Assert.Equal(["b"], breaker.Release());
        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }
}
