using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class TargetFullTests
{
    [Fact]
    public async Task A_full_target_raises_the_alarm_is_retried_and_converges_once_space_is_freed_with_nothing_lost()
    {
        using var sans = new SanPair();
        await using var tmpfs = await TmpfsMount.MountAsync(sans.SanB, "2m");
        var content = new byte[512 * 1024];
        for (var i = 0; i < 10; i++)
        {
            new Random(i).NextBytes(content);
            File.WriteAllBytes(sans.A($"f{i}"), content);
        }

        await using var replicator = sans.Start();
        await Eventually.HoldsAsync(
            () => replicator.Status is { State: ReplicationState.Degraded, Alarm: { } alarm } && alarm.Contains("because the disk was full"),
            () => $"no alarm for the full target: {replicator.Status}");
        var degraded = replicator.Status;
        Assert.StartsWith($"target {sans.SanB} failing for ", degraded.Alarm);
        Assert.True(degraded.PendingFiles > 0 && degraded.PendingBytes > 0, $"{degraded}");

        await tmpfs.ResizeAsync("16m");

        await Eventually.ReplicatedAsync(sans, replicator);
        await Eventually.HoldsAsync(() => replicator.Status is { State: ReplicationState.Streaming, Alarm: null }, () => $"{replicator.Status}");
        Assert.Equal(10, Directory.GetFiles(sans.SanB).Length);
    }
}
