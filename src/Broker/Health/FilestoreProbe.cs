using Broker.Configuration;
using Broker.Storage;

namespace Broker.Health;

/// <summary>Can a deposit be written right now? Resolves the filestore link and creates (and drops) a probe file.</summary>
internal sealed class FilestoreProbe(DepositFileStore store, BrokerSettings settings)
{
    /// <summary>Returns why deposits cannot be written, or null when they can.</summary>
    public string? FindProblem()
    {
        try
        {
            var directory = store.ResolveDepositsDirectory();
            // Permission bits say little when running as root and nothing about read-only mounts or a full
            // inode table: actually creating a file does. Hidden and per instance, like the writer's temp files.
            var probePath = Path.Combine(directory, $".healthz-{settings.InstanceId}");
            using (new FileStream(probePath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (FilestoreUnavailableException unavailable)
        {
            return unavailable.Message;
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            return $"filestore not writable: {failure.Message}";
        }
    }
}
