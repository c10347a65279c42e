using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Gateway.Configuration;

namespace Gateway.Cluster;

/// <summary>
/// Checks Gateway:Cluster and returns every problem, each naming its full key. Values that may hold a secret (a password
/// pasted where a file path belongs, an endpoint URL with user info) are never echoed.
/// </summary>
public static partial class ClusterOptionsValidator
{
    private const string Key = ClusterOptions.SectionKey;
    private const string EtcdKey = $"{Key}:Etcd";

    /// <summary>etcd's smallest lease with its default timing is 1.5 s, and TTLs are whole seconds.</summary>
    public static readonly TimeSpan MinimumLeaseTtl = TimeSpan.FromSeconds(2);

    public static IReadOnlyList<ConfigurationError> Validate(ClusterOptions options)
    {
        var errors = new List<ConfigurationError>();
        if (!options.Enabled)
        {
            if (ConfiguredWithoutEndpoints(options) is { } configured)
            {
                errors.Add(new($"{EtcdKey}:Endpoints", $"at least one etcd endpoint is required when cluster mode is configured ({configured} is set)"));
            }

            return errors;
        }

        var scheme = ValidateEndpoints(options.Etcd.Endpoints, errors);
        ValidateName(options.Name, $"{Key}:Name", errors);
        ValidateName(options.GatewayId, $"{Key}:GatewayId", errors);
        ValidateTimings(options, errors);
        ValidatePassword(options.Etcd, errors);
        ValidateCertificates(options.Etcd, scheme, errors);
        if (options.AdminUrl.Length > 0 && !(Uri.TryCreate(options.AdminUrl, UriKind.Absolute, out var admin) && admin.Scheme is "http" or "https" && admin.UserInfo.Length == 0))
        {
            errors.Add(new($"{Key}:AdminUrl", "must be an http:// or https:// URL without user info (the value is not shown: it may hold a password)"));
        }

        return errors;
    }

    private static string? ConfiguredWithoutEndpoints(ClusterOptions options) =>
        options.Name.Length > 0 ? $"{Key}:Name"
        : options.GatewayId.Length > 0 ? $"{Key}:GatewayId"
        : options.Etcd.Username.Length > 0 ? $"{EtcdKey}:Username"
        : options.Etcd.ClientCertificate.Length > 0 ? $"{EtcdKey}:ClientCertificate"
        : null;

    /// <summary>Returns the endpoints' common scheme (http or https), or null when there is none.</summary>
    private static string? ValidateEndpoints(List<string> endpoints, List<ConfigurationError> errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var schemes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < endpoints.Count; i++)
        {
            var key = $"{EtcdKey}:Endpoints:{i}";
            if (ParseEndpoint(endpoints[i], key, errors) is not { } url)
            {
                continue;
            }

            var authority = $"{url.Scheme}://{url.Authority}";
            if (seen.TryGetValue(authority, out var first))
            {
                errors.Add(new(key, $"duplicate etcd endpoint '{authority}' (already at {EtcdKey}:Endpoints:{first})"));
            }
            else
            {
                seen[authority] = i;
            }

            schemes.Add(url.Scheme);
        }

        if (schemes.Count > 1)
        {
            errors.Add(new($"{EtcdKey}:Endpoints", "mixes http:// and https:// endpoints: the members of one etcd cluster are reached one way"));
            return null;
        }

        return schemes.SingleOrDefault();
    }

    private static Uri? ParseEndpoint(string value, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(key, "is required"));
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(url.Host))
        {
            errors.Add(new(key, "is not an absolute http:// or https:// URL of an etcd member (the value is not shown: it may hold a secret)"));
            return null;
        }

        if (url.UserInfo.Length > 0)
        {
            errors.Add(new(key, "must not carry user info (the value is not shown): put the user in Username and the password in a file named by PasswordFile"));
            return null;
        }

        if (url.AbsolutePath != "/" || url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            errors.Add(new(key, $"'{value}' must be scheme, host and port only (etcd's gRPC API has no path)"));
            return null;
        }

        if (url.IsDefaultPort && !value.Contains($":{url.Port}", StringComparison.Ordinal))
        {
            errors.Add(new(key, $"'{value}' has no port: etcd's client port must be given (usually 2379)"));
            return null;
        }

        return url;
    }

    private static void ValidateName(string value, string key, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(key, "is required in cluster mode"));
        }
        else if (!NamePattern().IsMatch(value))
        {
            errors.Add(new(key, $"'{value}' must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit (it is part of etcd keys)"));
        }
    }

    private static void ValidateTimings(ClusterOptions options, List<ConfigurationError> errors)
    {
        if (options.LeaseTtl < MinimumLeaseTtl || options.LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add(new($"{Key}:LeaseTtl", $"{options.LeaseTtl} must be a whole number of seconds, at least {MinimumLeaseTtl.TotalSeconds:0} (etcd's lease unit and minimum)"));
        }

        if (options.StartupTimeout <= TimeSpan.Zero)
        {
            errors.Add(new($"{Key}:StartupTimeout", $"{options.StartupTimeout} must be greater than zero"));
        }

        var request = options.Etcd.RequestTimeout;
        if (request <= TimeSpan.Zero)
        {
            errors.Add(new($"{EtcdKey}:RequestTimeout", $"{request} must be greater than zero"));
        }
        else if (options.LeaseTtl >= MinimumLeaseTtl && request > options.RenewInterval)
        {
            errors.Add(new($"{EtcdKey}:RequestTimeout",
                $"{request} must not exceed a third of {Key}:LeaseTtl ({options.RenewInterval}): a renewal that hangs must end before the next one is due"));
        }
    }

    private static void ValidatePassword(EtcdOptions etcd, List<ConfigurationError> errors)
    {
        if (etcd.Username.Length == 0 && etcd.PasswordFile.Length == 0)
        {
            return;
        }

        if (etcd.Username.Length == 0)
        {
            errors.Add(new($"{EtcdKey}:Username", $"is required when {EtcdKey}:PasswordFile is set"));
            return;
        }

        if (etcd.PasswordFile.Length == 0)
        {
            errors.Add(new($"{EtcdKey}:PasswordFile", $"is required when {EtcdKey}:Username is set"));
            return;
        }

        if (!Path.IsPathFullyQualified(etcd.PasswordFile))
        {
            errors.Add(new($"{EtcdKey}:PasswordFile", "must be the absolute path of a file holding the password (the value is not shown: it may be the password itself)"));
        }
        else if (!File.Exists(etcd.PasswordFile))
        {
            errors.Add(new($"{EtcdKey}:PasswordFile", $"password file '{etcd.PasswordFile}' does not exist"));
        }
        else if (EtcdCredentials.ReadPassword(etcd.PasswordFile).Length == 0)
        {
            errors.Add(new($"{EtcdKey}:PasswordFile", $"password file '{etcd.PasswordFile}' is empty"));
        }
    }

    private static void ValidateCertificates(EtcdOptions etcd, string? scheme, List<ConfigurationError> errors)
    {
        var wantsTls = etcd.CaCertificate.Length > 0 || etcd.ClientCertificate.Length > 0 || etcd.ClientCertificateKey.Length > 0;
        if (wantsTls && scheme == Uri.UriSchemeHttp)
        {
            errors.Add(new($"{EtcdKey}:Endpoints", "certificates are configured but the endpoints are http://: use https:// endpoints"));
        }

        if (etcd.CaCertificate.Length > 0)
        {
            try
            {
                using var ca = X509Certificate2.CreateFromPemFile(RequireFile(etcd.CaCertificate));
            }
            catch (Exception e) when (e is IOException or CryptographicException or ArgumentException)
            {
                errors.Add(new($"{EtcdKey}:CaCertificate", $"'{etcd.CaCertificate}' is not a readable PEM certificate: {e.Message}"));
            }
        }

        if (etcd.ClientCertificate.Length == 0 && etcd.ClientCertificateKey.Length == 0)
        {
            return;
        }

        if (etcd.ClientCertificate.Length == 0 || etcd.ClientCertificateKey.Length == 0)
        {
            var missing = etcd.ClientCertificate.Length == 0 ? "ClientCertificate" : "ClientCertificateKey";
            errors.Add(new($"{EtcdKey}:{missing}", "is required when the other one is set"));
            return;
        }

        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(RequireFile(etcd.ClientCertificate), RequireFile(etcd.ClientCertificateKey));
        }
        catch (Exception e) when (e is IOException or CryptographicException or ArgumentException)
        {
            // The key file's content is never part of the message: .NET names the file, not what is in it.
            errors.Add(new($"{EtcdKey}:ClientCertificate", $"'{etcd.ClientCertificate}' with key '{etcd.ClientCertificateKey}' is not a readable PEM certificate and key: {e.Message}"));
        }
    }

    private static string RequireFile(string path) =>
        Path.IsPathFullyQualified(path) && File.Exists(path) ? path : throw new FileNotFoundException($"'{path}' is not an absolute path of an existing file");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();
}
