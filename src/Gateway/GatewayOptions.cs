using Gateway.Backup;
using Gateway.Cluster;
using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Coordinator.Admin;
using Gateway.Database;
using Gateway.Filestore;
using Gateway.Observability;
using Gateway.Routing;
using Gateway.Tls;
using Microsoft.Extensions.Options;

namespace Gateway;

/// <summary>
/// The whole gateway configuration: the "Gateway" section of the config file, overridable by environment variables
/// (Gateway__ActiveSite=B). Each section's type belongs to its feature; this composition names them all, so it lives
/// with the composition root.
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The site that takes writes and holds the primary database at start.</summary>
    public string ActiveSite { get; set; } = "";

    [ValidateEnumeratedItems(typeof(SiteOptionsValidator))]
    public List<SiteOptions> Sites { get; set; } = [];

    [ValidateObjectMembers(typeof(FilestoreOptionsValidator))]
    public FilestoreOptions Filestore { get; set; } = new();

    [ValidateObjectMembers(typeof(RoutingOptionsValidator))]
    public RoutingOptions Routing { get; set; } = new();

    [ValidateObjectMembers(typeof(ListenerOptionsValidator))]
    public ListenerOptions Listeners { get; set; } = new();

    [ValidateObjectMembers(typeof(DatabaseOptionsValidator))]
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>Where the gateway keeps its durable state (epoch, which node is primary, history); must survive restarts.</summary>
    public string StateDirectory { get; set; } = "";

    [ValidateObjectMembers(typeof(AdminOptionsValidator))]
    public AdminOptions Admin { get; set; } = new();

    [ValidateObjectMembers(typeof(CoordinatorOptionsValidator))]
    public CoordinatorOptions Coordinator { get; set; } = new();

    [ValidateObjectMembers(typeof(LimitsOptionsValidator))]
    public LimitsOptions Limits { get; set; } = new();

    [ValidateObjectMembers(typeof(ObservabilityOptionsValidator))]
    public ObservabilityOptions Observability { get; set; } = new();

    /// <summary>Cluster mode through etcd; off (the gateway runs alone on its local state) while no etcd endpoint is set.</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>Consistent backups of the database and the filestore together (pgBackRest and restic); off until RepositoryPath is set.</summary>
    public BackupOptions Backup { get; set; } = new();
}

/// <summary>Every section's per-field rules, generated from their attributes (each feature's validator for its section).</summary>
[OptionsValidator]
public sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
}
