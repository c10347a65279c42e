using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Observability;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

/// <summary>
/// Serves the public listener's certificate to every TLS handshake, read again when either PEM file's modification
/// time changes: certificates are renewed by replacing the files, without a restart or a dropped connection. A
/// replacement that cannot be read (half written, key not matching) keeps the previous certificate in use, is logged
/// and counted, raises the <see cref="AlarmCatalogue.TlsCertificateReloadFailed"/> alarm until a later version loads,
/// and is tried again at the next handshake.
/// </summary>
public sealed partial class ReloadingCertificate
{
    private readonly string _certificatePath;
    private readonly string _keyPath;
    private readonly ILogger<ReloadingCertificate> _logger;
    private readonly Alarms _alarms;
    private readonly Prometheus.Counter _reloadFailures;
    private readonly Lock _gate = new();
    private (DateTime Certificate, DateTime Key) _loadedVersion;
    private (DateTime Certificate, DateTime Key) _failedVersion;
    private X509Certificate2? _current;

    public ReloadingCertificate(IOptions<GatewayOptions> options, GatewayMetrics metrics, Alarms alarms, ILogger<ReloadingCertificate> logger)
    {
        (_certificatePath, _keyPath, _alarms, _logger) = (options.Value.Listeners.PublicCertificate, options.Value.Listeners.PublicCertificateKey, alarms, logger);
        _reloadFailures = metrics.Counter(
            "gateway_tls_certificate_reload_failures_total", "Replaced certificate files that could not be loaded; the previous certificate stayed in use.");
        metrics.ObservedGauge("gateway_tls_certificate_expiry_seconds", "When the public listener's certificate in use expires, in seconds since the Unix epoch.", () => ExpiresAt);
    }

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
                _alarms.Clear(AlarmCatalogue.TlsCertificateReloadFailed);
                return certificate;
            }

            _reloadFailures.Inc();
            _failedVersion = version;
            Log.ReloadFailed(_logger, loaded.Error!);
            _alarms.Raise(AlarmCatalogue.TlsCertificateReloadFailed, $"the certificate in {_certificatePath} (key {_keyPath}) could not be loaded, the previous one stays in use: {loaded.Error}");
            return _current ?? throw new InvalidOperationException(loaded.Error);
        }
    }
}
