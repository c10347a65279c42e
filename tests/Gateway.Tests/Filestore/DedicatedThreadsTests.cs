using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class DedicatedThreadsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task As_many_blocking_works_as_it_has_threads_run_at_once_and_none_on_the_thread_pool()
    {
        using var threads = new DedicatedThreads("test copy", 4);
        // Each work blocks until all four are running: they finish only if four threads run them side by side.
        using var allRunning = new Barrier(4);
        var works = Enumerable.Range(0, 4)
            .Select(_ => threads.RunAsync(() =>
            {
                Assert.True(allRunning.SignalAndWait(Patience), "fewer than four works ran at the same time");
                return (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name);
            }, CancellationToken.None))
            .ToList();

        var ranOn = await Task.WhenAll(works).WaitAsync(Patience);

        Assert.All(ranOn, thread => Assert.False(thread.IsThreadPoolThread));
        Assert.Equal(["test copy 1", "test copy 2", "test copy 3", "test copy 4"], ranOn.Select(thread => thread.Name).Order());
    }

    [Fact]
    public async Task Work_beyond_its_threads_waits_for_one_and_work_cancelled_while_waiting_never_runs()
    {
        using var threads = new DedicatedThreads("test flush", 1);
        using var release = new ManualResetEventSlim();
        var blocking = threads.RunAsync(() => release.Wait(Patience), CancellationToken.None);
        using var cancellation = new CancellationTokenSource();
        var ran = false;
        var cancelled = threads.RunAsync(() => ran = true, cancellation.Token);
        var queued = threads.RunAsync(() => Thread.CurrentThread.Name, CancellationToken.None);

        await cancellation.CancelAsync();
        Assert.False(queued.IsCompleted, "a second work ran while the only thread was busy");
        release.Set();

        Assert.True(await blocking.WaitAsync(Patience));
        Assert.Equal("test flush", await queued.WaitAsync(Patience));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Patience));
        Assert.False(ran);
    }

    [Fact]
    public async Task A_failing_work_fails_its_own_task_and_the_thread_goes_on_with_the_next()
    {
        using var threads = new DedicatedThreads("test copy", 1);

        var failing = threads.RunAsync(() => throw new IOException("disk gone"), CancellationToken.None);
        var next = threads.RunAsync(() => 42, CancellationToken.None);

        Assert.Equal("disk gone", (await Assert.ThrowsAsync<IOException>(() => failing.WaitAsync(Patience))).Message);
        Assert.Equal(42, await next.WaitAsync(Patience));
    }

    [Fact]
    public async Task Once_disposed_it_finishes_what_was_queued_and_refuses_more()
    {
        var threads = new DedicatedThreads("test flush", 1);
        using var release = new ManualResetEventSlim();
        var blocking = threads.RunAsync(() => release.Wait(Patience), CancellationToken.None);
        var queued = threads.RunAsync(() => "ran", CancellationToken.None);

        threads.Dispose();
        release.Set();

        Assert.True(await blocking.WaitAsync(Patience));
        Assert.Equal("ran", await queued.WaitAsync(Patience));
        // Thrown at once, not by a task: none is made.
        var refused = Record.Exception(() => { _ = threads.RunAsync(() => "too late", CancellationToken.None); });
        Assert.IsType<TaskSchedulerException>(refused);
    }

    [Fact]
    public async Task A_scan_on_a_thread_of_its_own_is_not_on_the_thread_pool()
    {
        var onPool = await DedicatedThreads.RunOnThreadOfItsOwnAsync(() => Thread.CurrentThread.IsThreadPoolThread, CancellationToken.None);

        Assert.False(onPool);
    }
}
