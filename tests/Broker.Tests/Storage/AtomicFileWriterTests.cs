using System.Security.Cryptography;
using Broker.Storage;

namespace Broker.Tests.Storage;

public sealed class AtomicFileWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-writer-").FullName;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(81920)] // exactly one copy chunk
    [InlineData(1_000_003)] // several chunks and a ragged tail
    public async Task Final_file_has_the_exact_bytes_size_and_sha256(int length)
    {
        var bytes = RandomNumberGenerator.GetBytes(length);

        var stored = await AtomicFileWriter.WriteAsync(_directory, "deposit", new MemoryStream(bytes), CancellationToken.None);

        Assert.Equal(Path.Combine(_directory, "deposit"), stored.Path);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(stored.Path));
        Assert.Equal(length, stored.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), stored.Sha256);
        Assert.Equal(["deposit"], FileNames());
    }

    [Fact]
    public async Task A_write_that_fails_midway_leaves_no_file_at_all()
    {
        var content = new FailingStream(bytesBeforeFailure: 200_000);

        await Assert.ThrowsAsync<IOException>(() =>
            AtomicFileWriter.WriteAsync(_directory, "deposit", content, CancellationToken.None));

        Assert.Empty(FileNames());
    }

    [Fact]
    public async Task A_cancelled_write_leaves_no_file_at_all()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            AtomicFileWriter.WriteAsync(_directory, "deposit", new MemoryStream(new byte[1000]), cancelled.Token));

        Assert.Empty(FileNames());
    }

    [Fact]
    public async Task Never_replaces_an_existing_file()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "deposit"), "original");

        await Assert.ThrowsAsync<IOException>(() =>
            AtomicFileWriter.WriteAsync(_directory, "deposit", new MemoryStream([1, 2, 3]), CancellationToken.None));

        Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(_directory, "deposit")));
        Assert.Equal(["deposit"], FileNames());
    }

    [Fact]
    public async Task Content_is_visible_only_under_a_hidden_temp_name_until_complete()
    {
        var content = new PausingStream(RandomNumberGenerator.GetBytes(100_000));
        var writing = AtomicFileWriter.WriteAsync(_directory, "deposit", content, CancellationToken.None);

        await content.Paused;
        Assert.Equal([".deposit.tmp"], FileNames());

        content.Resume();
        await writing;
        Assert.Equal(["deposit"], FileNames());
    }

    private string[] FileNames() =>
        Directory.EnumerateFileSystemEntries(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Yields some bytes, then fails like a client connection reset mid-upload.</summary>
    private sealed class FailingStream(int bytesBeforeFailure) : MemoryStream(new byte[bytesBeforeFailure])
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position < Length ? base.ReadAsync(buffer, cancellationToken) : throw new IOException("connection reset");
    }

    /// <summary>Serves half its bytes, then waits for the test to look at the directory before serving the rest.</summary>
    private sealed class PausingStream(byte[] bytes) : MemoryStream(bytes)
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Paused => _paused.Task;

        public void Resume() => _resumed.SetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= Length / 2 && !_resumed.Task.IsCompleted)
            {
                _paused.TrySetResult();
                await _resumed.Task;
            }

            return await base.ReadAsync(buffer, cancellationToken);
        }
    }
}
