using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Coordinator.Pausing;

/// <summary>pause.json in a temp state directory: a pause outlives a restart, and an unreadable one is never "not paused".</summary>
public sealed class AutomaticFailoverPauseTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-pause-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string FilePath => Path.Combine(_directory, PauseFile.FileName);

    [Fact]
    public void A_pause_is_on_disk_and_a_restart_finds_it_with_its_reason_author_and_end()
    {
        var now = _time.GetUtcNow();

        Assert.Null(new AutomaticFailoverPause(new PauseFile(_directory)).Pause("patching site A", "alice", TimeSpan.FromHours(2), now));

        var expected = new PauseStatus("patching site A", "alice", now, now.AddHours(2));
        Assert.Equal(expected, new AutomaticFailoverPause(new PauseFile(_directory)).Current);
    }

    [Fact]
    public void A_pause_while_paused_is_refused_naming_the_pause_in_force_which_stays()
    {
        var pause = new AutomaticFailoverPause(new PauseFile(_directory));
        pause.Pause("patching site A", "alice", TimeSpan.FromHours(2), _time.GetUtcNow());
        var onDisk = File.ReadAllText(FilePath);
        _time.Advance(TimeSpan.FromMinutes(10));

        var refusal = pause.Pause("network work", "bob", TimeSpan.FromHours(1), _time.GetUtcNow());

        Assert.Equal("automatic failover is already paused (patching site A, by alice, until 2025-03-01 10:00:00Z); resume it first", refusal);
        Assert.Equal("alice", pause.Current?.By);
        Assert.Equal(onDisk, File.ReadAllText(FilePath));
    }

    [Fact]
    public void Resuming_ends_the_pause_for_this_process_and_the_next()
    {
        var pause = new AutomaticFailoverPause(new PauseFile(_directory));
        pause.Pause("patching site A", "alice", TimeSpan.FromHours(2), _time.GetUtcNow());

        var ended = pause.Resume();

        Assert.Equal("patching site A", ended?.Reason);
        Assert.Null(pause.Current);
        Assert.False(File.Exists(FilePath));
        Assert.Null(new AutomaticFailoverPause(new PauseFile(_directory)).Current);
    }

    [Fact]
    public void Resuming_when_not_paused_says_so_with_null_and_changes_nothing()
    {
        var pause = new AutomaticFailoverPause(new PauseFile(_directory));

        Assert.Null(pause.Resume());
        Assert.Null(pause.Current);
        Assert.False(File.Exists(FilePath));
    }

    [Theory]
    [InlineData("{ \"reason\": ")]
    [InlineData("null")]
    public void An_unreadable_pause_file_stops_the_start_naming_the_file_and_what_removing_it_means(string content)
    {
        File.WriteAllText(FilePath, content);

        var error = Assert.Throws<InvalidDataException>(() => new AutomaticFailoverPause(new PauseFile(_directory)));

        Assert.Contains($"pause file '{FilePath}' is unreadable", error.Message);
        Assert.Contains("removing it resumes automatic failover", error.Message);
    }
}
