using Gateway.Configuration;

namespace Gateway.Filestore;

/// <summary>Which SAN is copied to which: one direction at a time, from the active site to the other.</summary>
public sealed record ReplicationDirection(string SourceSite, string SourcePath, string TargetSite, string TargetPath)
{
    public static ReplicationDirection Between(SiteOptions source, SiteOptions target) => new(source.Id, source.SanPath, target.Id, target.SanPath);

    /// <summary>The way back, after a failover: the new active site's SAN to the old one.</summary>
    public ReplicationDirection Reversed() => new(TargetSite, TargetPath, SourceSite, SourcePath);

    public override string ToString() => $"{SourceSite} -> {TargetSite} ({SourcePath} -> {TargetPath})";
}
