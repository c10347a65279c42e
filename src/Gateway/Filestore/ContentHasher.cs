using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gateway.Filestore;

/// <summary>SHA-256 of replica files, several at a time, read without taking any lock a writer could trip over.</summary>
internal static class ContentHasher
{
    /// <summary>Adds the SHA-256 of the given files of <paramref name="snapshot"/>; a file that vanished meanwhile keeps no hash (and so compares by time).</summary>
    public static async Task<DirectorySnapshot> AddHashesAsync(
        string root, DirectorySnapshot snapshot, IEnumerable<string> paths, CancellationToken cancellation)
    {
        var hashes = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation };
        await Parallel.ForEachAsync(paths, parallel, async (path, token) =>
        {
            if (await Sha256OrNullAsync(Path.Join(root, path), token) is { } hash)
            {
                hashes[path] = hash;
            }
        });
        return snapshot.WithHashes(hashes);
    }

    public static async Task<string?> Sha256OrNullAsync(string path, CancellationToken cancellation)
    {
        try
        {
            using var handle = Posix.OpenForReading(path);
            await using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellation));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
