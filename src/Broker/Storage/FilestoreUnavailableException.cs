namespace Broker.Storage;

/// <summary>The filestore path does not currently lead to a usable directory (e.g. the link points at a missing SAN).</summary>
internal sealed class FilestoreUnavailableException(string message, Exception? cause = null) : Exception(message, cause);
