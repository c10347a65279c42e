using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gateway.Filestore;

/// <summary>
/// SHA-256 of replica files, one per core at a time, read without taking any lock a writer could trip over. The
/// reads block, so they run on threads of their own for the duration: hashing a whole SAN must not hold the thread
/// pool the proxy runs on.
/// </summary>
internal static class ContentHasher
{
    /// <summary>Adds the SHA-256 of the given files of <paramref name="snapshot"/>; a file that vanished meanwhile keeps no hash (and so compares by time).</summary>
    public static async Task<DirectorySnapshot> AddHashesAsync(
        string root, DirectorySnapshot snapshot, IEnumerable<string> paths, CancellationToken cancellation)
    {
        var hashes = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        using var threads = new DedicatedThreads("filestore checksum", Environment.ProcessorCount);
        await Task.WhenAll(paths.Select(path => threads.RunAsync(
            () =>
            {
                cancellation.ThrowIfCancellationRequested();
                if (Sha256OrNull(Path.Join(root, path)) is { } hash)
                {
                    hashes[path] = hash;
                }
            },
            cancellation)));
        return snapshot.WithHashes(hashes);
    }

    private static string? Sha256OrNull(string path)
    {
        try
        {
            using var handle = Posix.OpenForReading(path);
            using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
