using Gateway.Model;


namespace Gateway.Tests.Model;

public sealed class DurableStateStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-state-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_saved_state_is_what_a_new_store_loads()
    {
        var state = new DurableState(7, "B", "B", Switching: true, DateTimeOffset.UnixEpoch, "planned switchover");
        new DurableStateStore(_directory).Save(null, state);

        Assert.Equal(state, new DurableStateStore(_directory).Load());
        Assert.False(File.Exists(Path.Combine(_directory, "state.json.tmp")));
    }

    [Fact]
    public void A_first_start_has_no_state()
    {
        Assert.Null(new DurableStateStore(Path.Combine(_directory, "new")).Load());
    }

    [Fact]
    public void A_corrupt_state_file_is_an_error_that_names_the_file_never_a_silent_reset()
    {
        File.WriteAllText(Path.Combine(_directory, "state.json"), "{ \"epoch\": ");

        var error = Assert.Throws<InvalidDataException>(() => new DurableStateStore(_directory).Load());
        Assert.Contains(Path.Combine(_directory, "state.json"), error.Message);
    }

    [Fact]
    public void Every_change_is_on_disk_before_it_is_visible()
    {
        var store = new DurableStateStore(_directory);
        var state = GatewayState.LoadOrCreate(store, "A", TimeProvider.System);

        state.Change(s => s with { Epoch = s.Epoch + 1, DatabasePrimary = "B" });

        Assert.Equal((2L, "B"), (store.Load()!.Epoch, store.Load()!.DatabasePrimary));
        Assert.Equal(state.Current, store.Load());
    }
}
