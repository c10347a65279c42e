using System.Net;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

/// <summary>
/// Where the gateway listens: the <c>Gateway:Listeners</c> section. Owned by the TLS feature because the public
/// listener's scheme follows its certificate.
/// </summary>
public sealed class ListenerOptions
{
    [HttpUrl]
    public string PublicUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// PEM certificate (chain) for an https:// PublicUrl, with <see cref="PublicCertificateKey"/>. Both files are read
    /// again when either changes, for the next TLS handshake: renew them (rename over the old ones) without a restart.
    /// </summary>
    public string PublicCertificate { get; set; } = "";

    /// <summary>PEM private key (unencrypted PKCS#8 or PKCS#1) of <see cref="PublicCertificate"/>.</summary>
    public string PublicCertificateKey { get; set; } = "";

    [HttpUrl]
    public string AdminUrl { get; set; } = "http://127.0.0.1:8081";

    [IpEndpoint]
    public string PgWriteEndpoint { get; set; } = "127.0.0.1:6432";

    [IpEndpoint]
    public string PgReadEndpoint { get; set; } = "127.0.0.1:6433";
}

/// <summary>The per-field rules of <see cref="ListenerOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class ListenerOptionsValidator : IValidateOptions<ListenerOptions>
{
}

/// <summary>
/// The listeners together: the public URL's scheme follows its certificate, every listener is on an IP address or
/// localhost with a port of its own, and the certificate files are both given or neither, and load as a pair, so a bad
/// file stops the start, not the first handshake.
/// </summary>
public sealed class ListenerOptionsRules : IValidateOptions<ListenerOptions>
{
    public ValidateOptionsResult Validate(string? name, ListenerOptions options)
    {
        var key = name ?? "Gateway:Listeners";
        var errors = new List<ConfigurationError>();
        var ports = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (property, url) in new[] { ("PublicUrl", options.PublicUrl), ("AdminUrl", options.AdminUrl) })
        {
            if (HttpUrls.Parse(url) is not { } parsed)
            {
                continue;
            }

            var scheme = property == "PublicUrl" && options.PublicCertificate.Length > 0 ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
            if (parsed.Scheme != scheme || !(parsed.IsLoopback || IPAddress.TryParse(parsed.Host.Trim('[', ']'), out _)))
            {
                var why = property == "PublicUrl"
                    ? "https:// with PublicCertificate and PublicCertificateKey set, http:// without them"
                    : "http:// (the admin listener is for loopback or a management network)";
                errors.Add(new($"{key}:{property}", $"'{url}' must be {scheme}:// on an IP address or localhost: {why}"));
                continue;
            }

            PathRules.RequireUnique(parsed.Port.ToString(), $"{key}:{property}", "listening port", ports, errors);
        }

        foreach (var (property, endpoint) in new[] { ("PgWriteEndpoint", options.PgWriteEndpoint), ("PgReadEndpoint", options.PgReadEndpoint) })
        {
            if (IPEndPoint.TryParse(endpoint, out var parsed) && parsed.Port != 0)
            {
                PathRules.RequireUnique(parsed.Port.ToString(), $"{key}:{property}", "listening port", ports, errors);
            }
        }

        CheckCertificate(options, key, errors);
        return errors.ToResult();
    }

    private static void CheckCertificate(ListenerOptions options, string key, List<ConfigurationError> errors)
    {
        if (options.PublicCertificate.Length == 0 && options.PublicCertificateKey.Length == 0)
        {
            return;
        }

        if (options.PublicCertificate.Length == 0 || options.PublicCertificateKey.Length == 0)
        {
            errors.Add(new($"{key}:{(options.PublicCertificate.Length == 0 ? "PublicCertificate" : "PublicCertificateKey")}", "is required when the other one is set"));
            return;
        }

        if (PublicCertificate.Load(options.PublicCertificate, options.PublicCertificateKey) is { Error: { } error })
        {
            errors.Add(new($"{key}:PublicCertificate", error));
        }
    }
}

/// <summary>Explicit limits for the public listener (Kestrel's defaults are generous and implicit): the <c>Gateway:Limits</c> section.</summary>
public sealed class LimitsOptions
{
    [AtLeast(1)]
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>All request headers together, names and values, in bytes.</summary>
    [AtLeast(1)]
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    [AtLeast(1)]
    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>Deposits carry whole files; 64 MiB by default.</summary>
    [AtLeast(1)]
    public long MaxRequestBodySize { get; set; } = 64L * 1024 * 1024;

    /// <summary>From a connection's first byte of a request to the end of its headers: a client trickling its headers (slowloris) is cut off after this.</summary>
    [Positive]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A request body arriving slower than this (bytes per second, after the grace period) is cut off, so a slow upload cannot hold a connection and an instance forever.</summary>
    [Number("must be a number of bytes per second greater than zero", Above = 0)]
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>
    /// How long a request body may arrive slower than MinRequestBodyDataRate. Kestrel measures data rates on its
    /// one-second heartbeat and refuses a grace period it could not observe, so it must be more than 1 s.
    /// </summary>
    [Positive(Seconds = 1)]
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an idle connection (no request in progress) stays open.</summary>
    [Positive]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Open connections of the public host at most: HTTP and the PostgreSQL endpoints together (one Kestrel server). More are closed at once.</summary>
    [AtLeast(1)]
    public long MaxConcurrentConnections { get; set; } = 10_000;
}

/// <summary>The per-field rules of <see cref="LimitsOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
}
