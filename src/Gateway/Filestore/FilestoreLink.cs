namespace Gateway.Filestore;

/// <summary>What a flip did: the link, where it pointed before and after, and in words.</summary>
public sealed record LinkFlip(string Link, string PreviousTarget, string Target, bool Changed, string Description);

/// <summary>A filestore link could not be read or switched; the message names the link, the target and the cause.</summary>
public sealed class FilestoreLinkException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// The symlink services write under, switched from one SAN directory to the other in one atomic step: a new symlink
/// is created under a hidden temp name beside it and rename(2)d over it, so every open through the link resolves
/// either the old directory or the new one, never nothing. The change is fsynced and verified with readlink.
/// </summary>
public static class FilestoreLink
{
    /// <summary>readlink: where the link points, exactly as stored.</summary>
    public static string CurrentTarget(string link)
    {
        var info = new FileInfo(link);
        if (info.LinkTarget is { } target)
        {
            return target;
        }

        throw new FilestoreLinkException(info.Exists || Directory.Exists(link)
            ? $"filestore link '{link}' is not a symlink; it must be one so that it can be switched atomically"
            : $"filestore link '{link}' does not exist");
    }

    /// <summary>True when <paramref name="link"/> resolves to <paramref name="directory"/> (however either is spelt); false when it points elsewhere or cannot be read.</summary>
    public static bool PointsAt(string link, string directory)
    {
        try
        {
            return SamePlace(CurrentTarget(link), directory, Path.GetDirectoryName(Path.GetFullPath(link))!);
        }
        catch (FilestoreLinkException)
        {
            return false;
        }
    }

    /// <summary>
    /// Points <paramref name="link"/> at <paramref name="target"/>. Does nothing when it already points there. Refuses
    /// a target the replicator has not declared a complete replica, unless <paramref name="force"/> is set (an
    /// operator accepting the loss).
    /// </summary>
    /// <param name="basis">What the flip rests on, for the description; by default "complete replica" or "FORCED onto an incomplete replica".</param>
    /// <exception cref="FilestoreLinkException">Refused, or the switch failed; the link is then unchanged.</exception>
    public static LinkFlip Flip(string link, string target, bool targetIsCompleteReplica, bool force = false, string? basis = null)
    {
        var previous = CurrentTarget(link);
        var directory = Path.GetDirectoryName(Path.GetFullPath(link))!;
        if (SamePlace(previous, target, directory))
        {
            return new LinkFlip(link, previous, previous, Changed: false, $"{link} already points at {previous}; nothing to do");
        }

        if (!Directory.Exists(target))
        {
            throw new FilestoreLinkException($"cannot switch {link} to {target}: the target is not a directory");
        }

        if (!targetIsCompleteReplica && !force)
        {
            throw new FilestoreLinkException(
                $"refusing to switch {link} to {target}: the target is not a complete replica of {previous} (force the flip to accept the missing files)");
        }

        Replace(link, target, directory);
        var now = CurrentTarget(link);
        if (now != target)
        {
            throw new FilestoreLinkException($"switched {link} to {target}, but readlink now says {now}");
        }

        var how = basis ?? (targetIsCompleteReplica ? "complete replica" : "FORCED onto an incomplete replica");
        return new LinkFlip(link, previous, target, Changed: true, $"{link} switched from {previous} to {target} ({how})");
    }

    private static void Replace(string link, string target, string directory)
    {
        // Same directory as the link: the rename cannot cross a file system, and the name is hidden from listings.
        var temp = Path.Combine(directory, $".{Path.GetFileName(link)}.flip-{Guid.NewGuid():N}");
        try
        {
            File.CreateSymbolicLink(temp, target);
            AtomicRename.Replace(temp, link);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new FilestoreLinkException($"cannot switch {link} to {target}: {e.Message}", e);
        }

        try
        {
            Posix.FsyncDirectory(directory);
        }
        catch (IOException e)
        {
            throw new FilestoreLinkException($"switched {link} to {target}, but could not make the change durable: {e.Message}", e);
        }
    }

    private static bool SamePlace(string current, string target, string linkDirectory) =>
        current == target
        || Path.TrimEndingDirectorySeparator(Path.GetFullPath(current, linkDirectory)) == Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
}
