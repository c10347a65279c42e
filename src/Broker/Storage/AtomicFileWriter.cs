using System.Buffers;
using System.Security.Cryptography;

namespace Broker.Storage;

/// <summary>
/// Writes a stream to a file so that the final name only ever shows complete, flushed content: readers and the
/// filestore replicator either see nothing or the whole file, never a half-written one.
/// </summary>
internal static class AtomicFileWriter
{
    private const int ChunkSize = 81920;

    /// <summary>
    /// Streams <paramref name="content"/> into a hidden temp file next to the final name, measuring size and
    /// SHA-256 on the way, flushes it to disk, then renames it into place. On any failure nothing is left behind.
    /// </summary>
    /// <exception cref="IOException">The final name already exists, or the filesystem failed.</exception>
    public static async Task<StoredFile> WriteAsync(string directory, string fileName, Stream content, CancellationToken cancellationToken)
    {
        var finalPath = Path.Combine(directory, fileName);
        // A leading dot marks it as not-yet-a-file for replicators and listings; same directory keeps the move a rename(2).
        var tempPath = Path.Combine(directory, $".{fileName}.tmp");
        try
        {
            var (size, sha256) = await CopyMeasuringAsync(content, tempPath, cancellationToken);
            File.Move(tempPath, finalPath, overwrite: false);
            return new StoredFile(finalPath, size, sha256);
        }
        catch
        {
            FileRemoval.TryDelete(tempPath);
            throw;
        }
    }

    private static async Task<(long Size, string Sha256)> CopyMeasuringAsync(Stream content, string tempPath, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            await using var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                bufferSize: 0, FileOptions.Asynchronous);
            long size = 0;
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, ChunkSize), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                size += read;
            }

            // The rename must not become visible before the bytes are on disk, or a crash could leave a short file under the final name.
            file.Flush(flushToDisk: true);
            return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
