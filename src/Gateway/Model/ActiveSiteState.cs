namespace Gateway.Model;

/// <summary>
/// Which site is active right now: it takes writes and holds the primary database. Read on every request and every
/// new database connection, so it is a single volatile reference; the coordinator is the only writer.
/// </summary>
public sealed class ActiveSiteState(string initialSite)
{
    private volatile string _activeSite = initialSite;

    public string ActiveSite => _activeSite;

    /// <summary>Routes writes to another site from now on; only the site switch calls this, after the database and filestore moved.</summary>
    public void Set(string siteId) => _activeSite = siteId;
}
