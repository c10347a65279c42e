namespace Gateway.Filestore;

/// <summary>
/// rename(2) and nothing else: the new name appears with its complete content in one step, or the call fails and
/// both names are as they were. File.Move is not used because across file systems it silently copies and deletes,
/// which is neither atomic nor what a caller that asked for a rename expects.
/// </summary>
public static class AtomicRename
{
    /// <summary>Puts <paramref name="source"/> in place of <paramref name="destination"/>, replacing a file or symlink there.</summary>
    /// <exception cref="SystemCallException">The kernel refused, for instance EXDEV when the two are on different file systems.</exception>
    public static void Replace(string source, string destination) => Posix.Rename(source, destination);
}
