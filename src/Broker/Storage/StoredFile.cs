namespace Broker.Storage;

/// <summary>A file durably in place: where it landed, and what was measured while writing it.</summary>
internal sealed record StoredFile(string Path, long Size, string Sha256);
