using Broker.Configuration;
using Broker.Storage;
using Broker.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Tests.Storage;

public sealed class DepositFileStoreTests : IDisposable
{
    private readonly Filestore _filestore = new();
    private readonly DepositFileStore _store;

    public DepositFileStoreTests() =>
        _store = new DepositFileStore(new BrokerSettings("t1", "Host=unused;Database=unused", _filestore.LinkPath),
            NullLogger<DepositFileStore>.Instance);

    [Fact]
    public async Task Saves_through_the_link_into_the_sites_deposits_directory()
    {
        var id = Guid.CreateVersion7();

        var stored = await _store.SaveAsync(id, new MemoryStream([1, 2, 3]), CancellationToken.None);

        Assert.Equal(Path.Combine(_filestore.DepositsDirectory, id.ToString()), stored.Path);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(stored.Path));
    }

    [Fact]
    public async Task Opens_saved_content_and_reports_missing_content_as_null()
    {
        var id = Guid.CreateVersion7();
        await _store.SaveAsync(id, new MemoryStream([7, 8]), CancellationToken.None);

        await using (var content = _store.OpenContent(id))
        {
            Assert.NotNull(content);
            Assert.Equal(2, content.Length);
        }

        Assert.Null(_store.OpenContent(Guid.CreateVersion7()));
    }

    [Fact]
    public void A_dangling_link_is_unavailable_and_nothing_is_created_at_its_target()
    {
        _filestore.PointAtNothing();

        var failure = Assert.Throws<FilestoreUnavailableException>(() => _store.ResolveDepositsDirectory());

        Assert.Contains(_filestore.LinkPath, failure.Message);
        Assert.False(Directory.Exists(Path.Combine(_filestore.Root, "missing-site")));
        Assert.Null(_store.OpenContent(Guid.CreateVersion7()));
    }

    [Fact]
    public async Task Discards_a_stored_file()
    {
        var stored = await _store.SaveAsync(Guid.CreateVersion7(), new MemoryStream([1]), CancellationToken.None);

        _store.Discard(stored);

        Assert.Empty(Directory.EnumerateFileSystemEntries(_filestore.DepositsDirectory));
    }

    public void Dispose() => _filestore.Dispose();
}
