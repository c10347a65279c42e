namespace Gateway.Configuration;

/// <summary>
/// File-system rules the hand-written validators share: a configuration is only valid on the machine where it will
/// run, so these look at the real paths.
/// </summary>
public static class PathRules
{
    /// <summary>The full path when <paramref name="path"/> is set and absolute; otherwise adds why not and returns null.</summary>
    public static string? AbsolutePath(string path, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add(new(key, "is required"));
            return null;
        }

        if (!Path.IsPathFullyQualified(path))
        {
            errors.Add(new(key, $"'{path}' must be an absolute path"));
            return null;
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
    }

    /// <summary>
    /// Like <see cref="AbsolutePath"/> for a key that names a file holding a secret. Operators do paste the secret
    /// itself there; an error must not print it into a terminal or a deployment log, so a value that is not an
    /// absolute path (which no secret of ours is shaped like) is never echoed.
    /// </summary>
    public static string? SecretFilePath(string path, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add(new(key, "is required"));
            return null;
        }

        if (!Path.IsPathFullyQualified(path))
        {
            errors.Add(new(key, "must be the absolute path of a file holding the secret (the value is not shown: it may be the secret itself)"));
            return null;
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
    }

    /// <summary>The directory's path with links resolved, so two names for one directory compare equal.</summary>
    public static string CanonicalDirectory(string fullPath)
    {
        var info = new DirectoryInfo(fullPath);
        var resolved = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        return Path.TrimEndingDirectorySeparator(resolved);
    }

    /// <summary>Adds <paramref name="key"/> with the value to <paramref name="seen"/>, or an error naming where it was first used.</summary>
    public static void RequireUnique(string value, string key, string what, Dictionary<string, string> seen, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(key, "is required"));
        }
        else if (seen.TryGetValue(value, out var firstKey))
        {
            errors.Add(new(key, $"duplicate {what} '{value}' (already used at {firstKey})"));
        }
        else
        {
            seen[value] = key;
        }
    }
}
