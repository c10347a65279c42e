namespace Gateway.Cluster;

/// <summary>
/// Cluster mode (Gateway:Cluster): two or three gateways share one state through etcd and elect one leader with a lease.
/// Off while <see cref="EtcdOptions.Endpoints"/> is empty: the gateway then runs alone on its local state.
/// </summary>
public sealed class ClusterOptions
{
    public const string SectionKey = "Gateway:Cluster";

    public EtcdOptions Etcd { get; set; } = new();

    /// <summary>The cluster's name: its state lives under /gateway/{Name}/ in etcd, so one etcd can serve several clusters.</summary>
    public string Name { get; set; } = "";

    /// <summary>This gateway's id, unique in the cluster (a second gateway with an id in use is refused at start).</summary>
    public string GatewayId { get; set; } = "";

    /// <summary>
    /// The session lease's time to live, in whole seconds (etcd's unit), renewed every third of it. A gateway that cannot
    /// renew stops writes before the lease can have expired in etcd; another gateway leads at most about this long after
    /// a leader dies.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Where the other gateways send an operator to this gateway's admin API when it leads (the URL a follower's 307
    /// names); empty: Gateway:Listeners:AdminUrl, which is wrong when that listens on a wildcard or behind NAT.
    /// </summary>
    public string AdminUrl { get; set; } = "";

    /// <summary>How long the start waits for an etcd endpoint to answer before giving up with an error naming them all.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool Enabled => Etcd.Endpoints.Count > 0;

    /// <summary>How often the lease is renewed: every third of its TTL, as etcd's own clients do.</summary>
    public TimeSpan RenewInterval => LeaseTtl / 3;
}

/// <summary>How to reach etcd (Gateway:Cluster:Etcd). Secrets come from files, never from the configuration itself.</summary>
public sealed class EtcdOptions
{
    /// <summary>Client URLs of the etcd members (http:// or https://, host and port only), tried in turn when one fails.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>etcd user for etcd's own authentication; needs <see cref="PasswordFile"/>.</summary>
    public string Username { get; set; } = "";

    /// <summary>Absolute path of a file holding the etcd user's password (trailing newline ignored).</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>PEM file of the CA that signed the etcd members' certificates (https endpoints); empty: the system's trust store.</summary>
    public string CaCertificate { get; set; } = "";

    /// <summary>PEM client certificate for etcd's --client-cert-auth; needs <see cref="ClientCertificateKey"/>.</summary>
    public string ClientCertificate { get; set; } = "";

    /// <summary>PEM private key of <see cref="ClientCertificate"/>.</summary>
    public string ClientCertificateKey { get; set; } = "";

    /// <summary>
    /// How long one request to one member may take before the next member is tried (at most a third of the lease TTL;
    /// half of that leaves a renewal time for a second member when the first is frozen). A transaction, never sent
    /// twice, may take three times this on its one member.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
}
