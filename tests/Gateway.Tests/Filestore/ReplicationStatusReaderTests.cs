using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class ReplicationStatusReaderTests
{
    [Theory]
    [InlineData(true, true, true, ReplicationState.Stopped)]
    [InlineData(true, false, false, ReplicationState.Stopped)]
    [InlineData(false, true, true, ReplicationState.Degraded)]
    [InlineData(false, true, false, ReplicationState.Degraded)]
    [InlineData(false, false, true, ReplicationState.Streaming)]
    [InlineData(false, false, false, ReplicationState.InitialSync)]
    public void A_stop_outranks_a_failure_which_outranks_the_initial_sync(bool stopped, bool failing, bool initialSyncCompleted, ReplicationState expected) =>
        Assert.Equal(expected, ReplicationStatusReader.StateOf(stopped, failing, initialSyncCompleted));
}
