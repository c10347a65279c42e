using System.Text.RegularExpressions;
using Gateway.Backup;
using Gateway.Coordinator.Audit;
using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Hosting;
using Gateway.Model;
using Gateway.Observability;
using Gateway.Operations;
using Gateway.Routing;
using Gateway.Testing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy;

namespace Gateway.Tests;

/// <summary>
/// The gateway process as an operator runs it. How it stops: SIGTERM, as an operator (or systemd) stops it, must stop
/// each of its two hosts once, flush what it still holds and exit 0. The gateway's own hosts used to be stopped twice
/// at once, and the trace exporter, disposed twice at once, crashed it with an unhandled exception (seen in a
/// benchmark run). And what it does per request that nobody asked for: ASP.NET Core's request logging is off.
/// </summary>
[Integration]
public sealed class GatewayHostTests : IAsyncLifetime
{
    private const int Runs = 3;
    private readonly List<EchoBackend> _backends = [];
    private OtlpReceiver _collector = null!;
    private GatewaySettings _settings = null!;

    public async Task InitializeAsync()
    {
        foreach (var id in new[] { "a1", "b1" })
        {
            _backends.Add(await EchoBackend.StartAsync(id));
        }

        _collector = await OtlpReceiver.StartAsync();
        // No database is needed to stop cleanly: the nodes' ports are free ones nobody listens on.
        _settings = new GatewaySettings([_backends[0].Url], [_backends[1].Url], FreePort.Next(), FreePort.Next());
        _settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        _settings.Values["Gateway:Database:AutoFailover"] = "false";
        _settings.Values["Gateway:Observability:OtlpEndpoint"] = _collector.Url;
        _settings.Values["Gateway:Observability:TraceSampleRatio"] = "1";
    }

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        await _collector.DisposeAsync();
        _settings.Dispose();
    }

    [Fact]
    public async Task Sigterm_stops_every_hosted_service_once_flushes_the_spans_and_exits_0()
    {
        var configFile = _settings.WriteJsonFile();
        for (var run = 1; run <= Runs; run++)
        {
            await using var gateway = GatewayProcess.StartNew(_settings, configFile);
            await gateway.StatusAsync();
            var exportsBefore = _collector.TraceExports.Count;
            for (var i = 0; i < 20; i++)
            {
                using var response = await gateway.Public.GetAsync("/");
                Assert.True(response.IsSuccessStatusCode, $"run {run}: GET / answered {(int)response.StatusCode}");
            }

            var exitCode = await gateway.StopAsync();

            var log = gateway.Output;
            Assert.True(exitCode == 0, $"run {run}: the gateway exited with {exitCode}\n{gateway.LogTail()}");
            Assert.DoesNotContain("Unhandled exception", log, StringComparison.Ordinal);
            // The exporter batches spans (every 5 s by default); the flush on stop sends the rest.
            Assert.True(_collector.TraceExports.Count > exportsBefore, $"run {run}: no spans reached the collector\n{gateway.LogTail()}");
            var stops = Regex.Count(log, "Trace export stopped");
            Assert.True(stops == 1, $"run {run}: trace export stopped {stops} times\n{gateway.LogTail()}");
        }
    }

    /// <summary>
    /// While ASP.NET Core's request logging is enabled at any level (its logger enabled for Critical), the host starts
    /// an Activity for every request, 12 % of the proxy's CPU per request (bench/RESULTS.md). Off by default; an
    /// operator's Logging:LogLevel for the category still turns it on.
    /// </summary>
    [Fact]
    public async Task Request_logging_and_with_it_the_hosts_per_request_activity_is_off_unless_configured()
    {
        await using (var byDefault = GatewayHost.Create(_settings.Load(), _settings.Build()))
        {
            Assert.False(HostingDiagnosticsLogger(byDefault).IsEnabled(LogLevel.Critical), "request logging is on by default");
        }

        _settings.Values[$"Logging:LogLevel:{GatewayHost.HostingDiagnosticsCategory}"] = "Information";
        await using var configured = GatewayHost.Create(_settings.Load(), _settings.Build());
        Assert.True(HostingDiagnosticsLogger(configured).IsEnabled(LogLevel.Information), "Logging:LogLevel did not turn request logging on");
    }

    /// <summary>
    /// The admin host acts on the public host's live objects, never on copies: each type a feature shares is the same
    /// instance in both hosts, and both run on the clock the host was given.
    /// </summary>
    [Fact]
    public async Task The_admin_host_acts_on_the_public_hosts_objects_and_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));

        await using var host = GatewayHost.Create(_settings.Load(), _settings.Build(), time);

        var shared = host.Public.Services.GetRequiredService<SharedServices>().Types;
        Type[] actedOnByAdmin =
        [
            typeof(TimeProvider), typeof(IProxyStateLookup), typeof(ActiveSiteState), typeof(GatewayState), typeof(Alarms), typeof(SiteTopology),
            typeof(DatabaseTargets), typeof(DatabaseRoutingTable), typeof(DatabaseObserver), typeof(DatabaseFailover), typeof(RejoinRunner),
            typeof(SiteSwitch), typeof(FailbackPreparation), typeof(WriteGate), typeof(FilestoreReplication), typeof(DrainState),
            typeof(AuditLog), typeof(OperationGate), typeof(OperationHistory), typeof(AutomaticFailoverPause), typeof(DatabaseOperations),
            typeof(SanProbes), typeof(SiteCoordinator), typeof(GatewayMetrics), typeof(AdminApiMetrics), typeof(BackupOptions),
        ];
        Assert.Empty(actedOnByAdmin.Except(shared));
        Assert.All(shared, type => Assert.Same(host.Public.Services.GetRequiredService(type), host.Admin.Services.GetRequiredService(type)));
        Assert.Same(time, host.Admin.Services.GetRequiredService<TimeProvider>());
        Assert.Equal(time.GetUtcNow(), host.Public.Services.GetRequiredService<GatewayState>().Current.ChangedAt);
    }

    /// <summary>
    /// Hosted services start in registration order, which the chain of feature recipes keeps: the database is observed
    /// and supervised before the filestore replicator and the site coordinator start acting on what they see, and
    /// the configuration reloader comes next, once the proxy it reloads exists, and the PostgreSQL endpoints' listeners
    /// last, so they accept clients once everything that routes them runs, and stop first.
    /// </summary>
    [Fact]
    public async Task The_features_hosted_services_start_in_the_order_the_recipes_are_chained()
    {
        await using var host = GatewayHost.Create(_settings.Load(), _settings.Build());

        var gateways = host.Public.Services.GetServices<IHostedService>()
            .Select(service => service.GetType())
            .Where(type => type.Namespace?.StartsWith("Gateway", StringComparison.Ordinal) == true)
            .Select(type => type.Name);

        Assert.Equal(
            ["DatabaseObserver", "DatabaseSupervisor", "GatewayShutdown", "FilestoreReplication", "SanProbes", "SiteCoordinator", "ReplicationWatch", "TraceExport", "ConfigurationReloader", "PgEndpointServer"],
            gateways);
    }

    private static ILogger HostingDiagnosticsLogger(GatewayHost host) =>
        host.Public.Services.GetRequiredService<ILoggerFactory>().CreateLogger(GatewayHost.HostingDiagnosticsCategory);
}
