using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Filestore;

/// <summary>
/// SHA-256 of replica files, one per core at a time, read without taking any lock a writer could trip over. The
/// reads block, so they run on threads of their own for the duration: hashing a whole SAN must not hold the thread
/// pool the proxy runs on.
/// </summary>
internal static class ContentHasher
{
    private const int ChunkSize = 1024 * 1024;

    /// <summary>
    /// Adds the SHA-256 of the given files of <paramref name="snapshot"/>; a file that vanished meanwhile keeps no
    /// hash (and so compares by time). The first failure stops the others, and a stop is seen within a chunk.
    /// </summary>
    public static async Task<DirectorySnapshot> AddHashesAsync(
        string root, DirectorySnapshot snapshot, IEnumerable<string> paths, CancellationToken cancellation)
    {
        var hashes = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var queue = new ConcurrentQueue<string>(paths);
        using var firstFailure = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var threads = new DedicatedThreads("filestore checksum", Environment.ProcessorCount);
        var hashers = Enumerable.Range(0, threads.MaximumConcurrencyLevel).Select(_ => threads.RunAsync(
            () =>
            {
                try
                {
                    while (queue.TryDequeue(out var path))
                    {
                        if (Sha256OrNull(Path.Join(root, path), firstFailure.Token) is { } hash)
                        {
                            hashes[path] = hash;
                        }
                    }
                }
                catch
                {
                    firstFailure.Cancel();
                    throw;
                }
            },
            firstFailure.Token)).ToList();

        // A failed hasher makes this throw its failure, not the others' cancellation.
        await Task.WhenAll(hashers);
        return snapshot.WithHashes(hashes);
    }

    private static string? Sha256OrNull(string path, CancellationToken cancellation)
    {
        SafeFileHandle handle;
        try
        {
            handle = Posix.OpenForReading(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        using (handle)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                long offset = 0;
                int read;
                while ((read = RandomAccess.Read(handle, buffer.AsSpan(0, ChunkSize), offset)) > 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                    hash.AppendData(buffer, 0, read);
                    offset += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }
}
