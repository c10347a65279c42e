using Gateway.Coordinator.Draining;
using Gateway.Model;

namespace Gateway.Tests.Model;

public sealed class DrainStateTests : IDisposable
{
    private static readonly (string Site, string Instance)[] Instances = [("A", "a1"), ("B", "b1"), ("B", "b2")];
    private readonly string _directory = Directory.CreateTempSubdirectory("drain-state-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_first_start_drains_nothing()
    {
        Assert.True(DrainState.Load(_directory).Current.IsEmpty);
    }

    [Fact]
    public void A_change_is_on_disk_when_it_returns_and_a_new_load_sees_it()
    {
        var state = DrainState.Load(_directory);

        state.Change(current => DrainDecision.Drain(current, DrainTarget.Site("A"), Instances));
        state.Change(current => DrainDecision.Drain(current, DrainTarget.Instance("b1"), Instances));
        var reloaded = DrainState.Load(_directory).Current;

        Assert.Equal("site A, instance b1", reloaded.ToString());
        Assert.False(File.Exists(Path.Combine(_directory, DrainState.FileName + ".tmp")));
    }

    [Fact]
    public void A_refused_change_writes_nothing()
    {
        var state = DrainState.Load(_directory);
        state.Change(current => DrainDecision.Drain(current, DrainTarget.Site("A"), Instances));
        var before = File.ReadAllText(Path.Combine(_directory, DrainState.FileName));

        var outcome = state.Change(current => DrainDecision.Drain(current, DrainTarget.Site("B"), Instances));

        Assert.True(outcome.IsRefused);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_directory, DrainState.FileName)));
        Assert.Equal(["A"], state.Current.Sites.ToArray());
    }

    [Fact]
    public void An_unreadable_file_stops_the_start_with_its_path_instead_of_routing_to_everything()
    {
        File.WriteAllText(Path.Combine(_directory, DrainState.FileName), "{\"sites\": [");

        var error = Assert.Throws<InvalidDataException>(() => DrainState.Load(_directory));

        Assert.Contains(Path.Combine(_directory, DrainState.FileName), error.Message);
    }
}
