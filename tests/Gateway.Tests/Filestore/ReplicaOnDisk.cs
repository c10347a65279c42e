using System.Security.Cryptography;
using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

/// <summary>What the interruption tests look at on disk: files with known random content, temp files, and B watched for partial files.</summary>
public static class ReplicaOnDisk
{
    public static void WriteRandom(string path, long size)
    {
        var chunk = new byte[1024 * 1024];
        var random = new Random(path.Length);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        for (long written = 0; written < size; written += chunk.Length)
        {
            random.NextBytes(chunk);
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, size - written));
        }
    }

    public static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    /// <summary>The replicator's temp files directly under <paramref name="directory"/>.</summary>
    public static List<FileInfo> TempFiles(string directory) =>
        new DirectoryInfo(directory).EnumerateFiles(".*.repl-tmp", new EnumerationOptions { AttributesToSkip = 0 }).ToList();

    /// <summary>
    /// Whether <paramref name="temp"/> holds the start of <paramref name="source"/> (random bytes, as written by
    /// <see cref="WriteRandom"/>) but not yet its end: a copy caught in the middle. Judged by content, since a copy
    /// reserves the full size before it writes (the unwritten end reads as zeros), and read with open(2) alone, since
    /// the copy holds an exclusive advisory lock that .NET's own open would honour.
    /// </summary>
    public static bool IsPartlyWritten(string temp, string source, int probeBytes = 64 * 1024)
    {
        try
        {
            using var copy = Posix.OpenForReading(temp);
            using var original = File.OpenHandle(source);
            var tailOffset = RandomAccess.GetLength(original) - probeBytes;
            var copyHead = ReadAt(copy, 0, probeBytes);
            return copyHead.Length == probeBytes
                && copyHead.AsSpan().SequenceEqual(ReadAt(original, 0, probeBytes))
                && ReadAt(copy, tailOffset, probeBytes).AsSpan().IndexOfAnyExcept((byte)0) < 0;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Polls <paramref name="targetDirectory"/> on a thread of its own (a busy thread pool must not make it miss a
    /// copy that lasts a fraction of a second) until the copy of <paramref name="name"/> is caught half written, or
    /// <paramref name="stopWaiting"/> says there is no point any more. True when caught.
    /// </summary>
    public static Task<bool> CatchHalfWrittenCopyAsync(string targetDirectory, string name, string source, TimeSpan within, Func<bool>? stopWaiting = null) =>
        Task.Factory.StartNew(
            () =>
            {
                var deadline = DateTime.UtcNow + within;
                while (DateTime.UtcNow < deadline && stopWaiting?.Invoke() != true)
                {
                    if (TempFiles(targetDirectory).Any(temp => temp.Name.StartsWith($".{name}.", StringComparison.Ordinal) && IsPartlyWritten(temp.FullName, source)))
                    {
                        return true;
                    }

                    Thread.Sleep(1);
                }

                return false;
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static byte[] ReadAt(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, int count)
    {
        var buffer = new byte[count];
        return buffer[..RandomAccess.Read(file, buffer, offset)];
    }

    /// <summary>
    /// Watches B (files directly under it) until told to stop: a final name must hold all of A's content from the moment it appears (A does not
    /// change here). Checked by size each time and by SHA-256 on first sight, since a preallocated file has its full
    /// size before its bytes.
    /// </summary>
    public static List<string> PartialFilesUnderFinalNames(string sanA, string sanB, IReadOnlyDictionary<string, long> sizes, CancellationToken stop)
    {
        var expected = sizes.Keys.ToDictionary(name => name, name => Sha256(Path.Combine(sanA, name)));
        var verified = new HashSet<string>();
        var partial = new List<string>();
        for (; !stop.IsCancellationRequested; Thread.Sleep(1))
        {
            foreach (var file in new DirectoryInfo(sanB).EnumerateFiles("*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                if (!sizes.TryGetValue(file.Name, out var size))
                {
                    continue;
                }

                if (file.Length != size)
                {
                    partial.Add($"{file.Name}: {file.Length} of {size} bytes");
                }
                else if (verified.Add(file.Name) && Sha256(file.FullName) != expected[file.Name])
                {
                    partial.Add($"{file.Name}: full size but not yet A's content");
                }
            }
        }

        return partial;
    }

    /// <summary>Every file directly under <paramref name="directory"/> but temp files, with its SHA-256 (streamed: these files are large).</summary>
    public static SortedDictionary<string, string> FinalFilesWithHashes(string directory) => new(
        new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { AttributesToSkip = 0 })
            .Where(file => !ReplicaScope.IsReplicaTempName(file.Name))
            .ToDictionary(file => file.Name, file => Sha256(file.FullName)),
        StringComparer.Ordinal);
}
