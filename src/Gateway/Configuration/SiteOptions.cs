using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>One of the two sites (Gateway:Sites:n): its service instances, its database node and its SAN directory.</summary>
public sealed class SiteOptions
{
    public string Id { get; set; } = "";

    [ValidateEnumeratedItems]
    public List<InstanceOptions> Instances { get; set; } = [];

    [ValidateObjectMembers]
    public DatabaseNodeOptions Database { get; set; } = new();

    /// <summary>This site's SAN directory, the replica the filestore links point at while the site is active.</summary>
    public string SanPath { get; set; } = "";
}

public sealed class InstanceOptions
{
    public string Id { get; set; } = "";

    [HttpUrl]
    public string Url { get; set; } = "";
}

public sealed class DatabaseNodeOptions
{
    [RequiredValue]
    public string Host { get; set; } = "";

    [Port]
    public int Port { get; set; } = 5432;

    /// <summary>The node's data directory on this machine; needed only to rejoin it as a standby (pg_rewind or base backup).</summary>
    public string DataDirectory { get; set; } = "";

    public NodeCommandOptions Commands { get; set; } = new();
}

/// <summary>
/// Shell command templates for node-level work the gateway cannot do over SQL. Placeholders: {dataDir}, {host},
/// {port}, {sourceHost}, {sourcePort}, {user}, {pgBin}. The defaults drive a local PostgreSQL 15 through pg_ctl as
/// the postgres user, as the demo runs it; another deployment replaces them (ssh, systemctl, ...).
/// </summary>
public sealed class NodeCommandOptions
{
    public string Stop { get; set; } = "runuser -u postgres -- {pgBin}/pg_ctl -D {dataDir} -m fast -w -t 60 stop";

    public string Start { get; set; } = "runuser -u postgres -- {pgBin}/pg_ctl -D {dataDir} -o '-p {port}' -l {dataDir}.log -w -t 60 start";

    public string Rewind { get; set; } =
        "runuser -u postgres -- {pgBin}/pg_rewind -D {dataDir} --write-recovery-conf --source-server='host={sourceHost} port={sourcePort} user={user} dbname=postgres'";

    public string BaseBackup { get; set; } =
        "rm -rf {dataDir} && runuser -u postgres -- {pgBin}/pg_basebackup -h {sourceHost} -p {sourcePort} -U {user} -D {dataDir} -R -X stream -c fast";
}

/// <summary>The per-field rules of <see cref="SiteOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class SiteOptionsValidator : IValidateOptions<SiteOptions>
{
}
