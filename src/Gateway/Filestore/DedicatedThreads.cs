using System.Collections.Concurrent;

namespace Gateway.Filestore;

/// <summary>
/// A few threads of their own for work that blocks in the kernel: reading and writing file copies, fsync and syncfs.
/// On the thread pool such work starves everything else: the pool starts with one thread per core and adds more
/// only slowly when they all block, so four copies and a flush on a 2-core machine held both of its threads, the
/// copies ran about two at a time (the initial sync took 1.5 times as long), and work queued to the pool, the proxy's
/// included, waited up to half a second behind them (bench/RESULTS.md, "the copies had starved the thread pool").
/// </summary>
/// <remarks>
/// Only synchronous work is given to it: an <c>await</c> inside would resume on these threads too.
/// </remarks>
internal sealed class DedicatedThreads : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = new();

    public DedicatedThreads(string name, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        MaximumConcurrencyLevel = count;
        for (var index = 1; index <= count; index++)
        {
            // Background: a replicator that was never stopped must not keep the process alive.
            new Thread(RunQueuedWork) { IsBackground = true, Name = count == 1 ? name : $"{name} {index}" }.Start();
        }
    }

    public override int MaximumConcurrencyLevel { get; }

    /// <summary>
    /// Runs <paramref name="work"/> on one of the threads once one is free. Cancelled while it waits, it never runs,
    /// but its task ends only when a thread reaches it; work that is running watches the token itself.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellation) =>
        Task.Factory.StartNew(work, cancellation, TaskCreationOptions.DenyChildAttach, this);

    /// <inheritdoc cref="RunAsync{T}"/>
    public Task RunAsync(Action work, CancellationToken cancellation) =>
        Task.Factory.StartNew(work, cancellation, TaskCreationOptions.DenyChildAttach, this);

    /// <summary>
    /// Runs one-off long blocking work (the scan of a whole tree for a verify) on a thread started for it and ended
    /// after it, so that a cold cache or a slow SAN holds no thread-pool thread for seconds.
    /// </summary>
    public static Task<T> RunOnThreadOfItsOwnAsync<T>(Func<T> work, CancellationToken cancellation) =>
        Task.Factory.StartNew(work, cancellation, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, Default);

    /// <summary>The threads finish what is queued, then end.</summary>
    public void Dispose() => _queue.CompleteAdding();

    protected override void QueueTask(Task task) => _queue.Add(task);

    // Never on the caller's thread: that is usually a thread-pool thread, the one thing this is here to spare.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void RunQueuedWork()
    {
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }
}
