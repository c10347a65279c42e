using Gateway.Backup;
using Gateway.Cluster;
using Gateway.Configuration;
using Gateway.Coordinator.Admin;
using Gateway.Database;
using Gateway.Filestore;
using Gateway.Tls;
using Microsoft.Extensions.Options;

namespace Gateway;

/// <summary>
/// The rules no attribute can say: across fields and sections, and on the file system. The sites' rules live here
/// (the topology is the whole configuration's); each section's own are its feature's hand-written validator.
/// </summary>
public sealed class GatewayOptionsRules(bool adminTokenFromEnvironment) : IValidateOptions<GatewayOptions>
{
    private const string Root = GatewayOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, GatewayOptions options) => Errors(options).ToResult();

    public IEnumerable<ConfigurationError> Errors(GatewayOptions options)
    {
        var errors = new List<ConfigurationError>();
        SiteRules.Check(options.Sites, options.ActiveSite, $"{Root}:Sites", errors);
        errors.AddRange(new FilestoreOptionsRules(options.Sites.Select(site => site.SanPath)).Check($"{Root}:Filestore", options.Filestore));
        errors.AddRange(new ListenerOptionsRules().Check($"{Root}:Listeners", options.Listeners));
        errors.AddRange(new AdminOptionsRules(adminTokenFromEnvironment).Check($"{Root}:Admin", options.Admin));
        errors.AddRange(new DatabaseOptionsRules().Check($"{Root}:Database", options.Database));
        PathRules.AbsolutePath(options.StateDirectory, $"{Root}:StateDirectory", errors);
        errors.AddRange(ClusterOptionsValidator.Validate(options.Cluster));
        errors.AddRange(new BackupOptionsRules(options).Check($"{Root}:Backup", options.Backup));
        return errors;
    }
}
