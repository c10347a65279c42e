namespace Broker.Storage;

internal static class FileRemoval
{
    /// <summary>
    /// Deletes a file during cleanup after another failure. Returns false instead of throwing when the directory is
    /// gone or unwritable, so the cleanup never masks the failure that made it necessary.
    /// </summary>
    public static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
