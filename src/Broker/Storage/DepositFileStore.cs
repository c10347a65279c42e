using Broker.Configuration;

namespace Broker.Storage;

/// <summary>
/// Deposit files under <c>{FilestorePath}/deposits/{id}</c>. The filestore path is usually a symlink that the
/// gateway may flip to the other site's directory at any moment, so nothing here caches where it points.
/// </summary>
internal sealed class DepositFileStore(BrokerSettings settings, ILogger<DepositFileStore> logger)
{
    private const string DepositsFolder = "deposits";

    /// <summary>
    /// Follows the filestore link to the real deposits directory, creating the "deposits" folder (never the
    /// filestore root itself: a dangling link must stay an error, not become a stray local directory).
    /// </summary>
    public string ResolveDepositsDirectory()
    {
        var root = new DirectoryInfo(settings.FilestorePath);
        var target = root.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? root.FullName;
        if (!Directory.Exists(target))
        {
            throw new FilestoreUnavailableException($"filestore path {settings.FilestorePath} does not lead to a directory");
        }

        try
        {
            return Directory.CreateDirectory(Path.Combine(target, DepositsFolder)).FullName;
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            throw new FilestoreUnavailableException($"cannot create the deposits directory under {target}: {failure.Message}", failure);
        }
    }

    /// <summary>Stores a deposit's bytes durably under its id.</summary>
    public Task<StoredFile> SaveAsync(Guid id, Stream content, CancellationToken cancellationToken) =>
        // Resolved once per write: if the link flips mid-write, the whole file still lands in one directory,
        // with its temp file and final name side by side, and replication carries it over.
        AtomicFileWriter.WriteAsync(ResolveDepositsDirectory(), id.ToString(), content, cancellationToken);

    /// <summary>Opens a deposit's bytes for reading, or returns null when the file is not there.</summary>
    public FileStream? OpenContent(Guid id)
    {
        try
        {
            return new FileStream(Path.Combine(settings.FilestorePath, DepositsFolder, id.ToString()),
                FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception absent) when (absent is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Removes a file whose deposit could not be recorded, so no unreferenced bytes linger.</summary>
    public void Discard(StoredFile file)
    {
        if (!FileRemoval.TryDelete(file.Path))
        {
            logger.LogWarning("Could not remove {Path} after its deposit failed; it is an orphan", file.Path);
        }
    }
}
