namespace Broker.Tests.Infrastructure;

/// <summary>
/// A filestore laid out as in production: a link the brokers are configured with, pointing at one site's
/// directory, in a scratch directory removed on dispose.
/// </summary>
public sealed class Filestore : IDisposable
{
    public Filestore()
    {
        Root = Directory.CreateTempSubdirectory("broker-filestore-").FullName;
        SiteDirectory = Directory.CreateDirectory(Path.Combine(Root, "site-a")).FullName;
        LinkPath = Path.Combine(Root, "filestore");
        File.CreateSymbolicLink(LinkPath, SiteDirectory);
    }

    public string Root { get; }

    /// <summary>The real directory the link points at.</summary>
    public string SiteDirectory { get; }

    /// <summary>The symlink the broker is configured with.</summary>
    public string LinkPath { get; }

    public string DepositsDirectory => Path.Combine(SiteDirectory, "deposits");

    /// <summary>Re-points the link at a directory that does not exist, as when the active site's SAN is gone.</summary>
    public void PointAtNothing() => Repoint(Path.Combine(Root, "missing-site"));

    /// <summary>Points the link back at the site directory.</summary>
    public void PointAtSite() => Repoint(SiteDirectory);

    private void Repoint(string target)
    {
        File.Delete(LinkPath);
        File.CreateSymbolicLink(LinkPath, target);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
