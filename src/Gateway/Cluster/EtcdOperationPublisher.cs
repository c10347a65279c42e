using System.Threading.Channels;
using Gateway.Operations;

namespace Gateway.Cluster;

/// <summary>
/// The running operation's progress in etcd, at /gateway/{Name}/state/operation: the leader publishes every step's
/// start and end (leadership-guarded, so a deposed leader publishes nothing), followers take it from the watch. A
/// gateway that takes over a half-done switch reads there where its predecessor stopped. Written off the operation's
/// path, newest first: a switch holding writes never waits for etcd to record its progress.
/// </summary>
public sealed partial class EtcdOperationPublisher : IOperationPublisher, IAsyncDisposable
{
    public const string Key = "state/operation";

    private readonly ClusterNode _node;
    private readonly ILogger<EtcdOperationPublisher> _logger;
    private readonly SharedDocument<PublishedOperation> _document;
    private readonly Channel<PublishedOperation> _pending = Channel.CreateBounded<PublishedOperation>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Task _writer;
    private volatile PublishedOperation? _latest;

    public EtcdOperationPublisher(ClusterNode node, ILogger<EtcdOperationPublisher> logger)
    {
        (_node, _logger) = (node, logger);
        _document = new(node.Store, node.Election, Key, null);
        _writer = Task.Run(WriteAsync);
    }

    public PublishedOperation? Latest => _latest;

    /// <summary>Only while the gateway that published it still leads: an operation whose gateway was lost was abandoned, not running.</summary>
    public PublishedOperation? RunningElsewhere => _latest is { Ended: false } running && running.RunBy != _node.Options.GatewayId && running.RunBy == _node.Election.Status.Leader
        ? running
        : null;

    public void Publish(PublishedOperation operation)
    {
        var mine = operation with { RunBy = _node.Options.GatewayId };
        _latest = mine;
        _pending.Writer.TryWrite(mine);
    }

    /// <summary>Takes the progress another gateway published, from the watch; null when not newer than the one known.</summary>
    public PublishedOperation? Adopt(StoredKey key)
    {
        if (_document.Adopt(key) is not { } adopted)
        {
            return null;
        }

        _latest = adopted;
        return adopted;
    }

    private async Task WriteAsync()
    {
        await foreach (var operation in _pending.Reader.ReadAllAsync())
        {
            try
            {
                await _document.OverwriteAsync(operation, CancellationToken.None);
            }
            catch (Exception e) when (e is StateNotSavedException or EtcdUnavailableException or EtcdRefusedException)
            {
                // Progress is for people and for a successor's sentence; the operation itself must not stop for it.
                Log.NotPublished(_logger, operation.Description, e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "the progress of {Operation} was not published in etcd: {Reason}")]
        public static partial void NotPublished(ILogger logger, string operation, string reason);
    }
}
