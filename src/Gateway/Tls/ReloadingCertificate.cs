using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Observability;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

/// <summary>
/// Serves the public listener's certificate to every TLS handshake, read again when either PEM file's modification
/// time changes: certificates are renewed by replacing the files, without a restart or a dropped connection. A
/// replacement that cannot be read (half written, key not matching) keeps the previous certificate in use, is logged
/// and counted, and is tried again at the next handshake.
/// </summary>
public sealed partial class ReloadingCertificate
{
    private readonly string _certificatePath;
    private readonly string _keyPath;
    private readonly ILogger<ReloadingCertificate> _logger;
    private readonly Lock _gate = new();
    private (DateTime Certificate, DateTime Key) _loadedVersion;
    private (DateTime Certificate, DateTime Key) _failedVersion;
    private X509Certificate2? _current;

    public ReloadingCertificate(IOptions<GatewayOptions> options, MetricsCollector collector, ILogger<ReloadingCertificate> logger)
    {
        (_certificatePath, _keyPath, _logger) = (options.Value.Listeners.PublicCertificate, options.Value.Listeners.PublicCertificateKey, logger);
        collector.Meter.CreateObservableCounter("gateway.tls.certificate_reload_failures", () => ReloadFailures, "{failure}",
            "Replaced certificate files that could not be loaded; the previous certificate stayed in use.");
        collector.Meter.CreateObservableGauge("gateway.tls.certificate_expiry", () => ExpiresAt, "s",
            "When the public listener's certificate in use expires, in seconds since the Unix epoch.");
    }

    public long ReloadFailures { get; private set; }

    private double ExpiresAt
    {
        get
        {
            lock (_gate)
            {
                return _current is null ? 0 : new DateTimeOffset(_current.NotAfter.ToUniversalTime()).ToUnixTimeSeconds();
            }
        }
    }

    /// <summary>The certificate for the next handshake; loads it the first time.</summary>
    public X509Certificate2 Current()
    {
        var version = (File.GetLastWriteTimeUtc(_certificatePath), File.GetLastWriteTimeUtc(_keyPath));
        lock (_gate)
        {
            if (_current is not null && (version == _loadedVersion || version == _failedVersion))
            {
                return _current;
            }

            var loaded = PublicCertificate.Load(_certificatePath, _keyPath);
            if (loaded.Certificate is { } certificate)
            {
                if (_current is not null)
                {
                    Log.Reloaded(_logger, _certificatePath, certificate.Subject, certificate.NotAfter);
                }

                (_current, _loadedVersion) = (certificate, version);
                return certificate;
            }

            ReloadFailures++;
            _failedVersion = version;
            Log.ReloadFailed(_logger, loaded.Error!);
            return _current ?? throw new InvalidOperationException(loaded.Error);
        }
    }
}
