namespace Gateway.Filestore;

/// <summary>Paths relative to a SAN root, '/'-separated, as the replicator names entries.</summary>
internal static class RelativePaths
{
    /// <summary>The directories above <paramref name="path"/>, nearest first: "a/b/c" gives "a/b", then "a".</summary>
    public static IEnumerable<string> Ancestors(string path)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            yield return path[..slash];
        }
    }
}
