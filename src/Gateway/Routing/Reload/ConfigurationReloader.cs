using System.Runtime.InteropServices;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Observability;
using Microsoft.Extensions.Primitives;
using Prometheus;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing.Reload;

/// <summary>
/// Acts on <see cref="ReloadDecision"/> whenever the configuration changes: when the file is saved (the JSON source
/// polls it every 4 s) or at once on SIGHUP, as operators reload HAProxy or nginx. An applied reload gives YARP the new destinations
/// (the health checks probe the new instances from then on) and the topology the new lists (drain requests name
/// them); a refused one leaves everything as it runs. Each outcome is a log line and a count in
/// <c>gateway_config_reloads_total</c>.
/// </summary>
public sealed partial class ConfigurationReloader : IHostedService, IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly InMemoryConfigProvider _proxyConfig;
    private readonly SiteTopology _topology;
    private readonly ILogger<ConfigurationReloader> _logger;
    private readonly Counter _reloads;
    private readonly Lock _gate = new();
    private IReadOnlyDictionary<string, string> _running;
    private IDisposable? _fileChanges;
    private PosixSignalRegistration? _hangup;

    public ConfigurationReloader(
        IConfiguration configuration, InMemoryConfigProvider proxyConfig, SiteTopology topology, GatewayMetrics metrics, ILogger<ConfigurationReloader> logger)
    {
        _configuration = configuration;
        _proxyConfig = proxyConfig;
        _topology = topology;
        _logger = logger;
        _running = ReloadDecision.Flatten(configuration);
        _reloads = metrics.Counter(
            "gateway_config_reloads_total",
            "Configuration reloads by result: applied (instance lists changed) or refused (an invalid file, or a change only a restart applies; the running configuration stays).",
            "result");
        // Both series from the start, so an alert on refusals sees 0 rather than nothing.
        _reloads.WithLabels(Result(ReloadAction.Applied));
        _reloads.WithLabels(Result(ReloadAction.Refused));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _fileChanges = ChangeToken.OnChange(_configuration.GetReloadToken, ReloadFromCallback);
        if (_configuration is IConfigurationRoot root && !OperatingSystem.IsWindows())
        {
            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
            {
                // Handled: SIGHUP's default action would end the process.
                signal.Cancel = true;
                Log.Hangup(_logger);
                root.Reload();
            });
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _fileChanges?.Dispose();
        _hangup?.Dispose();
        _fileChanges = null;
        _hangup = null;
    }

    /// <summary>Compares the configuration as it is now with the one in force, and applies or refuses the change.</summary>
    public ReloadVerdict Reload()
    {
        lock (_gate)
        {
            var changed = ReloadDecision.Flatten(_configuration);
            GatewayOptions? options = null;
            IReadOnlyList<ConfigurationError> errors = [];
            try
            {
                options = GatewayConfigurationLoader.Load(_configuration, GatewayConfigurationLoader.AdminTokenFromEnvironment);
            }
            catch (InvalidConfigurationException invalid)
            {
                errors = invalid.Errors;
            }

            var verdict = ReloadDecision.Decide(_running, changed, errors, options?.Sites);
            if (verdict.Action == ReloadAction.Applied)
            {
                _topology.ReplaceSites(options!.Sites);
                _proxyConfig.Update([ProxyConfigFactory.Route()], [ProxyConfigFactory.Cluster(options)]);
                _running = changed;
            }

            Record(verdict);
            return verdict;
        }
    }

    /// <summary>The file watcher's and the signal's entry: nothing thrown here may reach the thread that called it.</summary>
    private void ReloadFromCallback()
    {
        try
        {
            Reload();
        }
        catch (Exception e)
        {
            Record(new ReloadVerdict(ReloadAction.Refused, $"reload failed, the running configuration stays: {e.Message}"));
        }
    }

    private void Record(ReloadVerdict verdict)
    {
        switch (verdict.Action)
        {
            case ReloadAction.Applied:
                Log.Applied(_logger, verdict.Reason);
                break;
            case ReloadAction.Refused:
                Log.Refused(_logger, verdict.Reason);
                break;
            default:
                Log.Unchanged(_logger, verdict.Reason);
                return;
        }

        _reloads.WithLabels(Result(verdict.Action)).Inc();
    }

    private static string Result(ReloadAction outcome) => outcome == ReloadAction.Applied ? "applied" : "refused";
}
