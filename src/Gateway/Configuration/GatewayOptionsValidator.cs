using System.Net;
using Gateway.Coordinator.Switching;
using Gateway.Tls;

namespace Gateway.Configuration;

/// <summary>
/// Checks a bound <see cref="GatewayOptions"/> against every rule the gateway relies on, and returns all problems
/// found, each naming its key. Checks that touch the file system (SAN directories, links, token file) look at the
/// real paths: a configuration is only valid on the machine where it will run.
/// </summary>
public static class GatewayOptionsValidator
{
    private const string Root = GatewayOptions.SectionName;

    public static IReadOnlyList<ConfigurationError> Validate(GatewayOptions options, bool adminTokenFromEnvironment)
    {
        var errors = new List<ConfigurationError>();
        ValidateSites(options, errors);
        ValidateActiveSite(options, errors);
        ValidateFilestore(options, errors);
        ValidateHealthCheck(options.Routing, errors);
        ValidateListeners(options.Listeners, errors);
        ValidatePublicCertificate(options.Listeners, errors);
        ValidateAdmin(options.Admin, adminTokenFromEnvironment, errors);
        ValidateLimits(options, errors);
        ValidateObservability(options.Observability, errors);
        ValidateDatabase(options, errors);
        ValidateCoordinator(options.Coordinator, errors);
        ValidateAbsolutePath(options.StateDirectory, $"{Root}:StateDirectory", errors);
        errors.AddRange(Gateway.Cluster.ClusterOptionsValidator.Validate(options.Cluster));
        // The backup settings know their own rules (BackupOptions.Validate), full keys included.
        errors.AddRange(options.Backup.Validate(options));
        return errors;
    }

    private static void ValidateSites(GatewayOptions options, List<ConfigurationError> errors)
    {
        if (options.Sites.Count != 2)
        {
            errors.Add(new($"{Root}:Sites", $"exactly two sites are required (A and B of a dual-datacenter pair), found {options.Sites.Count}"));
        }

        var siteIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var instanceIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var instanceUrls = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var sanPaths = new Dictionary<string, string>(StringComparer.Ordinal);

        for (var s = 0; s < options.Sites.Count; s++)
        {
            var site = options.Sites[s];
            var siteKey = $"{Root}:Sites:{s}";
            RequireUnique(site.Id, $"{siteKey}:Id", "site id", siteIds, errors);

            if (site.Instances.Count == 0)
            {
                errors.Add(new($"{siteKey}:Instances", "at least one service instance is required"));
            }

            for (var i = 0; i < site.Instances.Count; i++)
            {
                var instance = site.Instances[i];
                var instanceKey = $"{siteKey}:Instances:{i}";
                RequireUnique(instance.Id, $"{instanceKey}:Id", "instance id", instanceIds, errors);
                if (ValidateHttpUrl(instance.Url, $"{instanceKey}:Url", errors) is { } url)
                {
                    RequireUnique(url.GetLeftPart(UriPartial.Path).TrimEnd('/'), $"{instanceKey}:Url", "instance URL", instanceUrls, errors);
                }
            }

            ValidateDatabaseNode(site.Database, $"{siteKey}:Database", errors);
            if (ValidateSanDirectory(site.SanPath, $"{siteKey}:SanPath", errors) is { } sanPath)
            {
                RequireUnique(sanPath, $"{siteKey}:SanPath", "SAN directory (each site needs its own replica)", sanPaths, errors);
            }
        }
    }

    private static void RequireUnique(string value, string key, string what, Dictionary<string, string> seen, List<ConfigurationError> errors)
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

    private static Uri? ValidateHttpUrl(string value, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(key, "is required"));
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(url.Host))
        {
            errors.Add(new(key, $"'{value}' is not an absolute http:// or https:// URL"));
            return null;
        }

        if (url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            errors.Add(new(key, $"'{value}' must not contain a query, fragment or user info"));
            return null;
        }

        return url;
    }

    private static void ValidateDatabaseNode(DatabaseNodeOptions node, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(node.Host))
        {
            errors.Add(new($"{key}:Host", "is required"));
        }

        ValidatePort(node.Port, $"{key}:Port", errors);
    }

    private static void ValidatePort(int port, string key, List<ConfigurationError> errors)
    {
        if (port is < 1 or > 65535)
        {
            errors.Add(new(key, $"{port} is not a TCP port (1-65535)"));
        }
    }

    /// <summary>Returns the SAN directory's canonical path (links resolved) when it is usable, so two names for one directory are caught.</summary>
    private static string? ValidateSanDirectory(string path, string key, List<ConfigurationError> errors)
    {
        if (ValidateAbsolutePath(path, key, errors) is not { } fullPath)
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

        return CanonicalDirectory(fullPath);
    }

    private static string CanonicalDirectory(string fullPath)
    {
        var info = new DirectoryInfo(fullPath);
        var resolved = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        return Path.TrimEndingDirectorySeparator(resolved);
    }

    private static string? ValidateAbsolutePath(string path, string key, List<ConfigurationError> errors)
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

    private static void ValidateActiveSite(GatewayOptions options, List<ConfigurationError> errors)
    {
        var key = $"{Root}:ActiveSite";
        if (string.IsNullOrWhiteSpace(options.ActiveSite))
        {
            errors.Add(new(key, "is required"));
        }
        else if (!options.Sites.Any(site => site.Id == options.ActiveSite))
        {
            var defined = string.Join(", ", options.Sites.Select(site => $"'{site.Id}'"));
            errors.Add(new(key, $"unknown site id '{options.ActiveSite}'; the sites defined are {defined}"));
        }
    }

    private static void ValidateFilestore(GatewayOptions options, List<ConfigurationError> errors)
    {
        var linksKey = $"{Root}:Filestore:Links";
        if (options.Filestore.Links.Count == 0)
        {
            errors.Add(new(linksKey, "at least one filestore link is required"));
        }

        var sanDirectories = options.Sites
            .Where(site => Path.IsPathFullyQualified(site.SanPath) && Directory.Exists(site.SanPath))
            .Select(site => CanonicalDirectory(Path.GetFullPath(site.SanPath)))
            .ToHashSet(StringComparer.Ordinal);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var l = 0; l < options.Filestore.Links.Count; l++)
        {
            var key = $"{linksKey}:{l}";
            if (ValidateAbsolutePath(options.Filestore.Links[l], key, errors) is not { } link)
            {
                continue;
            }

            RequireUnique(link, key, "filestore link", seen, errors);
            ValidateLink(link, key, sanDirectories, errors);
        }

        // The replication settings know their own rules (ReplicationOptions.Validate); here they get their full key.
        errors.AddRange(options.Filestore.Replication.Validate($"{Root}:Filestore:Replication"));
        if (options.Filestore.MaxBacklogOnFailover.Files < 0)
        {
            errors.Add(new($"{Root}:Filestore:MaxBacklogOnFailover:Files", $"{options.Filestore.MaxBacklogOnFailover.Files} must not be negative"));
        }

        if (options.Filestore.MaxBacklogOnFailover.Bytes < 0)
        {
            errors.Add(new($"{Root}:Filestore:MaxBacklogOnFailover:Bytes", $"{options.Filestore.MaxBacklogOnFailover.Bytes} must not be negative"));
        }
    }

    private static void ValidateLink(string link, string key, HashSet<string> sanDirectories, List<ConfigurationError> errors)
    {
        var info = new FileInfo(link);
        if (!info.Exists && !Directory.Exists(link) && info.LinkTarget is null)
        {
            errors.Add(new(key, $"'{link}' does not exist; create it as a symlink to the active site's SanPath (ln -s <SanPath> {link})"));
            return;
        }

        if (info.LinkTarget is null)
        {
            errors.Add(new(key, $"'{link}' is not a symlink; the gateway flips the filestore by replacing a symlink atomically"));
            return;
        }

        var target = Path.GetFullPath(info.LinkTarget, Path.GetDirectoryName(link)!);
        if (!Directory.Exists(target))
        {
            errors.Add(new(key, $"'{link}' points at '{info.LinkTarget}', which is not a directory"));
        }
        else if (sanDirectories.Count > 0 && !sanDirectories.Contains(CanonicalDirectory(target)))
        {
            errors.Add(new(key, $"'{link}' points at '{info.LinkTarget}', which is neither site's SanPath"));
        }
    }

    private static void ValidateHealthCheck(RoutingOptions routing, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Routing:HealthCheck";
        var health = routing.HealthCheck;
        RequirePositive(health.Interval, $"{key}:Interval", errors);
        RequirePositive(health.Timeout, $"{key}:Timeout", errors);
        RequirePositive(health.PassiveReactivationPeriod, $"{key}:PassiveReactivationPeriod", errors);
        RequireAtLeastOne(health.UnhealthyAfterProbeFailures, $"{key}:UnhealthyAfterProbeFailures", errors);
        RequireAtLeastOne(health.UnhealthyAfterRequestFailures, $"{key}:UnhealthyAfterRequestFailures", errors);
        if (health.UnhealthyAfterConsecutive5xx < 0)
        {
            errors.Add(new($"{key}:UnhealthyAfterConsecutive5xx", $"{health.UnhealthyAfterConsecutive5xx} must be 0 (off) or more"));
        }

        if (!health.Path.StartsWith('/'))
        {
            errors.Add(new($"{key}:Path", $"'{health.Path}' must start with '/'"));
        }

        if (routing.AllowedHosts.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add(new($"{Root}:Routing:AllowedHosts", "must list host names (or \"*\"), no empty entries; leave it out to accept any host"));
        }
    }

    private static void RequirePositive(TimeSpan value, string key, List<ConfigurationError> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(new(key, $"{value} must be greater than zero"));
        }
    }

    private static void RequireAtLeastOne(long value, string key, List<ConfigurationError> errors)
    {
        if (value < 1)
        {
            errors.Add(new(key, $"{value} must be at least 1"));
        }
    }

    private static void ValidateListeners(ListenerOptions listeners, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Listeners";
        var ports = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, url) in new[] { ("PublicUrl", listeners.PublicUrl), ("AdminUrl", listeners.AdminUrl) })
        {
            if (ValidateHttpUrl(url, $"{key}:{name}", errors) is not { } parsed)
            {
                continue;
            }

            var scheme = name == "PublicUrl" && listeners.PublicCertificate.Length > 0 ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
            if (parsed.Scheme != scheme || !(parsed.IsLoopback || IPAddress.TryParse(parsed.Host.Trim('[', ']'), out _)))
            {
                var why = name == "PublicUrl"
                    ? "https:// with PublicCertificate and PublicCertificateKey set, http:// without them"
                    : "http:// (the admin listener is for loopback or a management network)";
                errors.Add(new($"{key}:{name}", $"'{url}' must be {scheme}:// on an IP address or localhost: {why}"));
                continue;
            }

            RequireUnique(parsed.Port.ToString(), $"{key}:{name}", "listening port", ports, errors);
        }

        foreach (var (name, endpoint) in new[] { ("PgWriteEndpoint", listeners.PgWriteEndpoint), ("PgReadEndpoint", listeners.PgReadEndpoint) })
        {
            if (IPEndPoint.TryParse(endpoint, out var parsed) && parsed.Port != 0)
            {
                RequireUnique(parsed.Port.ToString(), $"{key}:{name}", "listening port", ports, errors);
            }
            else
            {
                errors.Add(new($"{key}:{name}", $"'{endpoint}' is not an IP address and port such as 127.0.0.1:6432"));
            }
        }
    }

    private static void ValidateAdmin(AdminOptions admin, bool tokenFromEnvironment, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Admin";
        RequireAtLeastOne(admin.MaxFailedAuthAttempts, $"{key}:MaxFailedAuthAttempts", errors);
        RequirePositive(admin.FailedAuthWindow, $"{key}:FailedAuthWindow", errors);
        RequireAtLeastOne(admin.MaxRequestBodySize, $"{key}:MaxRequestBodySize", errors);
        if (!tokenFromEnvironment)
        {
            ValidateAdminTokenFile(admin, errors);
        }
    }

    private static void ValidateAdminTokenFile(AdminOptions admin, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Admin:TokenFile";
        if (ValidateSecretFilePath(admin.TokenFile, key, errors) is not { } path)
        {
            return;
        }

        if (!File.Exists(path))
        {
            errors.Add(new(key, $"token file '{path}' does not exist (or set GATEWAY_ADMIN_TOKEN)"));
        }
        else if (new FileInfo(path).Length == 0)
        {
            errors.Add(new(key, $"token file '{path}' is empty"));
        }
    }

    /// <summary>
    /// Like <see cref="ValidateAbsolutePath"/> for a key that names a file holding a secret. Operators do paste the
    /// secret itself there; an error must not print it into a terminal or a deployment log, so a value that is not an
    /// absolute path (which no secret of ours is shaped like) is never echoed.
    /// </summary>
    private static string? ValidateSecretFilePath(string path, string key, List<ConfigurationError> errors)
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

    /// <summary>Both PEM files or neither; present and readable as a certificate with its key, so a bad file stops the start, not the first handshake.</summary>
    private static void ValidatePublicCertificate(ListenerOptions listeners, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Listeners";
        if (listeners.PublicCertificate.Length == 0 && listeners.PublicCertificateKey.Length == 0)
        {
            return;
        }

        if (listeners.PublicCertificate.Length == 0 || listeners.PublicCertificateKey.Length == 0)
        {
            errors.Add(new($"{key}:{(listeners.PublicCertificate.Length == 0 ? "PublicCertificate" : "PublicCertificateKey")}", "is required when the other one is set"));
            return;
        }

        if (PublicCertificate.Load(listeners.PublicCertificate, listeners.PublicCertificateKey) is { Error: { } error })
        {
            errors.Add(new($"{key}:PublicCertificate", error));
        }
    }

    private static void ValidateObservability(ObservabilityOptions observability, List<ConfigurationError> errors)
    {
        // Empty means no trace export; anything else must be a collector URL the exporter can post to.
        if (observability.OtlpEndpoint.Length > 0)
        {
            ValidateHttpUrl(observability.OtlpEndpoint, $"{Root}:Observability:OtlpEndpoint", errors);
        }

        if (observability.TraceSampleRatio is < 0 or > 1 || double.IsNaN(observability.TraceSampleRatio))
        {
            errors.Add(new($"{Root}:Observability:TraceSampleRatio", $"{observability.TraceSampleRatio} is not a share between 0 and 1"));
        }
    }

    private static void ValidateLimits(GatewayOptions options, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Limits";
        var limits = options.Limits;
        RequireAtLeastOne(limits.MaxRequestHeaderCount, $"{key}:MaxRequestHeaderCount", errors);
        RequireAtLeastOne(limits.MaxRequestHeadersTotalSize, $"{key}:MaxRequestHeadersTotalSize", errors);
        RequireAtLeastOne(limits.MaxRequestLineSize, $"{key}:MaxRequestLineSize", errors);
        RequireAtLeastOne(limits.MaxRequestBodySize, $"{key}:MaxRequestBodySize", errors);
        RequireAtLeastOne(limits.MaxConcurrentConnections, $"{key}:MaxConcurrentConnections", errors);
        RequirePositive(limits.RequestHeadersTimeout, $"{key}:RequestHeadersTimeout", errors);
        RequirePositive(limits.KeepAliveTimeout, $"{key}:KeepAliveTimeout", errors);
        if (!(limits.MinRequestBodyDataRate > 0) || double.IsInfinity(limits.MinRequestBodyDataRate))
        {
            errors.Add(new($"{key}:MinRequestBodyDataRate", $"{limits.MinRequestBodyDataRate} must be a number of bytes per second greater than zero"));
        }

        // Kestrel measures data rates on its one-second heartbeat and refuses a grace period it could not observe.
        if (limits.MinRequestBodyDataRateGracePeriod <= TimeSpan.FromSeconds(1))
        {
            errors.Add(new($"{key}:MinRequestBodyDataRateGracePeriod", $"{limits.MinRequestBodyDataRateGracePeriod} must be more than 1 second"));
        }
    }

    private static void ValidateCoordinator(CoordinatorOptions coordinator, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Coordinator";
        RequireAtLeastOne(coordinator.MaxHeldWrites, $"{key}:MaxHeldWrites", errors);
        RequireAtLeastOne(coordinator.MinHealthyInstances, $"{key}:MinHealthyInstances", errors);
        RequirePositive(coordinator.FailoverAfter, $"{key}:FailoverAfter", errors);
        RequirePositive(coordinator.RecoverAfter, $"{key}:RecoverAfter", errors);
        RequirePositive(coordinator.ObserveInterval, $"{key}:ObserveInterval", errors);
        RequirePositive(coordinator.MaxHoldTime, $"{key}:MaxHoldTime", errors);
        RequirePositive(coordinator.DrainTimeout, $"{key}:DrainTimeout", errors);
        RequirePositive(coordinator.FinalSyncDeadline, $"{key}:FinalSyncDeadline", errors);
        RequirePositive(coordinator.CatchUpTimeout, $"{key}:CatchUpTimeout", errors);
        RequirePositive(coordinator.SanProbeTimeout, $"{key}:SanProbeTimeout", errors);
        RequirePositive(coordinator.StartupGrace, $"{key}:StartupGrace", errors);
        ValidateHooks(coordinator.Hooks, $"{key}:Hooks", errors);
    }

    private static void ValidateHooks(List<HookOptions> hooks, string key, List<ConfigurationError> errors)
    {
        for (var h = 0; h < hooks.Count; h++)
        {
            var hook = hooks[h];
            var hookKey = $"{key}:{h}";
            if (!SwitchSteps.Hookable.Contains(hook.Step))
            {
                var valid = string.Join(", ", SwitchSteps.Hookable);
                errors.Add(new($"{hookKey}:Step", hook.Step.Length == 0 ? $"is required; one of {valid}" : $"unknown step '{hook.Step}'; the steps are {valid}"));
            }

            if (hook.When is null)
            {
                errors.Add(new($"{hookKey}:When", "is required: Before or After"));
            }

            if (string.IsNullOrWhiteSpace(hook.Command))
            {
                errors.Add(new($"{hookKey}:Command", "is required (run by /bin/sh -c)"));
            }

            RequirePositive(hook.Timeout, $"{hookKey}:Timeout", errors);
        }
    }

    private static void ValidateDatabase(GatewayOptions options, List<ConfigurationError> errors)
    {
        var key = $"{Root}:Database";
        var database = options.Database;
        RequirePositive(database.ConnectTimeout, $"{key}:ConnectTimeout", errors);
        RequirePositive(database.StartupTimeout, $"{key}:StartupTimeout", errors);
        RequireAtLeastOne(database.MaxConnectionsPerEndpoint, $"{key}:MaxConnectionsPerEndpoint", errors);
        RequirePositive(database.ObserveInterval, $"{key}:ObserveInterval", errors);
        RequirePositive(database.ObserveTimeout, $"{key}:ObserveTimeout", errors);
        RequirePositive(database.FailoverAfter, $"{key}:FailoverAfter", errors);
        RequirePositive(database.CatchUpTimeout, $"{key}:CatchUpTimeout", errors);
        RequirePositive(database.HoldConnectionsFor, $"{key}:HoldConnectionsFor", errors);
        RequirePositive(database.DegradeAfter, $"{key}:DegradeAfter", errors);
        if (!Enum.IsDefined(database.RejoinAfterFailover))
        {
            errors.Add(new($"{key}:RejoinAfterFailover", $"'{database.RejoinAfterFailover}' is not one of {string.Join(", ", Enum.GetNames<RejoinAfterFailover>())}"));
        }

        RequirePositive(database.SessionMoveTimeout, $"{key}:SessionMoveTimeout", errors);
        if (database.SessionMoveTimeout >= database.HoldConnectionsFor)
        {
            // New write connections wait while a planned switch lets open sessions finish their transactions.
            errors.Add(new($"{key}:SessionMoveTimeout", $"{database.SessionMoveTimeout} must be shorter than {key}:HoldConnectionsFor ({database.HoldConnectionsFor}), or new connections give up while sessions finish"));
        }
        if (database.MaxLagOnFailover < 0)
        {
            errors.Add(new($"{key}:MaxLagOnFailover", $"{database.MaxLagOnFailover} must not be negative (bytes)"));
        }

        if (string.IsNullOrWhiteSpace(database.Username))
        {
            errors.Add(new($"{key}:Username", "is required"));
        }

        if (database.PasswordFile.Length > 0
            && ValidateSecretFilePath(database.PasswordFile, $"{key}:PasswordFile", errors) is { } passwordFile
            && !File.Exists(passwordFile))
        {
            errors.Add(new($"{key}:PasswordFile", $"password file '{passwordFile}' does not exist"));
        }

        for (var s = 0; s < options.Sites.Count; s++)
        {
            if (options.Sites[s].Database.DataDirectory is { Length: > 0 } dataDirectory)
            {
                ValidateAbsolutePath(dataDirectory, $"{Root}:Sites:{s}:Database:DataDirectory", errors);
            }
        }
    }
}
