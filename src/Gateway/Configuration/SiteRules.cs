namespace Gateway.Configuration;

/// <summary>
/// The two sites together: exactly two, ids, instance ids and URLs unique, each with its own readable SAN directory,
/// and the active site one of them. Per-field rules (a URL's shape, a port) are <see cref="SiteOptionsValidator"/>'s.
/// </summary>
public static class SiteRules
{
    public static void Check(List<SiteOptions> sites, string activeSite, string sitesKey, List<ConfigurationError> errors)
    {
        if (sites.Count != 2)
        {
            errors.Add(new(sitesKey, $"exactly two sites are required (A and B of a dual-datacenter pair), found {sites.Count}"));
        }

        var siteIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var instanceIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var instanceUrls = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var sanPaths = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 0; s < sites.Count; s++)
        {
            var site = sites[s];
            var siteKey = $"{sitesKey}:{s}";
            PathRules.RequireUnique(site.Id, $"{siteKey}:Id", "site id", siteIds, errors);
            if (site.Instances.Count == 0)
            {
                errors.Add(new($"{siteKey}:Instances", "at least one service instance is required"));
            }

            for (var i = 0; i < site.Instances.Count; i++)
            {
                var instanceKey = $"{siteKey}:Instances:{i}";
                PathRules.RequireUnique(site.Instances[i].Id, $"{instanceKey}:Id", "instance id", instanceIds, errors);
                if (HttpUrls.Parse(site.Instances[i].Url) is { } url)
                {
                    PathRules.RequireUnique(url.GetLeftPart(UriPartial.Path).TrimEnd('/'), $"{instanceKey}:Url", "instance URL", instanceUrls, errors);
                }
            }

            if (SanDirectory(site.SanPath, $"{siteKey}:SanPath", errors) is { } sanPath)
            {
                PathRules.RequireUnique(sanPath, $"{siteKey}:SanPath", "SAN directory (each site needs its own replica)", sanPaths, errors);
            }

            if (site.Database.DataDirectory.Length > 0)
            {
                PathRules.AbsolutePath(site.Database.DataDirectory, $"{siteKey}:Database:DataDirectory", errors);
            }
        }

        CheckActiveSite(sites, activeSite, $"{sitesKey[..sitesKey.LastIndexOf(':')]}:ActiveSite", errors);
    }

    private static void CheckActiveSite(List<SiteOptions> sites, string activeSite, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(activeSite))
        {
            errors.Add(new(key, "is required"));
        }
        else if (!sites.Any(site => site.Id == activeSite))
        {
            var defined = string.Join(", ", sites.Select(site => $"'{site.Id}'"));
            errors.Add(new(key, $"unknown site id '{activeSite}'; the sites defined are {defined}"));
        }
    }

    /// <summary>The SAN directory's canonical path (links resolved) when it is usable, so two names for one directory are caught.</summary>
    private static string? SanDirectory(string path, string key, List<ConfigurationError> errors)
    {
        if (PathRules.AbsolutePath(path, key, errors) is not { } fullPath)
        {
            return null;
        }

        if (!Directory.Exists(fullPath))
        {
            errors.Add(new(key, File.Exists(fullPath) ? $"'{path}' is a file, not a directory" : $"directory '{path}' does not exist"));
            return null;
        }

        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(fullPath).GetEnumerator();
            entries.MoveNext();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            errors.Add(new(key, $"directory '{path}' is not readable: {e.Message}"));
            return null;
        }

        return PathRules.CanonicalDirectory(fullPath);
    }
}
