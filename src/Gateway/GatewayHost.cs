using System.Net;
using Gateway.Backup;
using Gateway.Configuration;
using Gateway.Configuration.Reload;
using Gateway.Coordinator;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Audit;
using Gateway.Coordinator.Draining;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Operations;
using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.State;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Nodes;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Observability;
using Gateway.Routing;
using Gateway.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gateway;

/// <summary>
/// The gateway process: a public host (the YARP proxy and the PostgreSQL endpoints) and an admin host on its own
/// listener, so no proxy route can ever answer on the admin port and no admin route on the public one. Both share
/// one set of state objects (active site, database targets, routing health).
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private GatewayHost(WebApplication publicApp, WebApplication adminApp)
    {
        Public = publicApp;
        Admin = adminApp;
    }

    public WebApplication Public { get; }

    public WebApplication Admin { get; }

    public static GatewayHost Create(GatewayOptions options, IConfiguration configuration)
    {
        var publicApp = BuildPublic(options, configuration);
        var adminApp = BuildAdmin(options, configuration, publicApp.Services);
        return new GatewayHost(publicApp, adminApp);
    }

    public async Task StartAsync(CancellationToken cancellation = default)
    {
        await Public.StartAsync(cancellation);
        await Admin.StartAsync(cancellation);
    }

    public async Task StopAsync()
    {
        await Admin.StopAsync();
        await Public.StopAsync();
    }

    /// <summary>
    /// Completes when either host is asked to stop (SIGTERM reaches both; a failing hosted service stops its own).
    /// It only waits: the hosts' own WaitForShutdownAsync would also stop each host, at the same time as
    /// <see cref="StopAsync"/> does, so every hosted service was stopped twice at once (a trace exporter disposed
    /// twice at once crashed the gateway on SIGTERM).
    /// </summary>
    public Task WaitForShutdownAsync() => Task.WhenAny(StoppingOf(Public), StoppingOf(Admin));

    private static Task StoppingOf(WebApplication app)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        return stopping.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        await Public.DisposeAsync();
    }

    /// <summary>The category of ASP.NET Core's per-request logging ("Request starting …", "Request finished …").</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private static WebApplicationBuilder NewBuilder(IConfiguration configuration)
    {
        // No appsettings.json from the working directory, no ASPNETCORE_URLS: the gateway listens only where its own configuration says.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddConfiguration(configuration);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = GatewayShutdown.ShutdownTimeout);
        builder.Services.AddRoutingCore();
        // ASP.NET Core's per-request log lines and scope: while this category is enabled at any level, the host also
        // starts an Activity for every request, which nothing here records. Turning it off saved 12 % of the proxy's
        // CPU per request (bench/RESULTS.md). Before the configuration's rules, so an operator's Logging:LogLevel for
        // this category still wins.
        builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        // A failing probe is logged with its stack trace every interval; the health *transitions* are what an operator needs.
        builder.Logging.AddFilter("Yarp.ReverseProxy.Health.ActiveHealthCheckMonitor", LogLevel.Error);
        builder.Logging.AddFilter("Yarp.ReverseProxy.Health.DestinationHealthUpdater", LogLevel.Information);
        // YARP registers data protection for session-affinity cookies, which the gateway does not use.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        return builder;
    }

    private static WebApplication BuildPublic(GatewayOptions options, IConfiguration configuration)
    {
        // A bare LF as line terminator (RFC 9112 allows a server to accept it) is one more way for two parsers to
        // disagree about where a header ends; only CRLF is accepted. Process-wide, and read when Kestrel parses.
        AppContext.SetSwitch("Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators", true);
        var builder = NewBuilder(configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ApplyLimits(kestrel.Limits, options.Limits);
            // HTTP/1.1 only, stated rather than implied: Kestrel's default (HTTP/1.1 and HTTP/2) already answers an
            // HTTP/2 preface on a cleartext port with GOAWAY, but over TLS it would negotiate HTTP/2 (ALPN): a
            // second protocol with its own framing and limits that the hostile-input suite does not cover.
            Listen(kestrel, options.Listeners.PublicUrl, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (options.Listeners.PublicCertificate.Length > 0)
                {
                    var certificate = kestrel.ApplicationServices.GetRequiredService<ReloadingCertificate>();
                    listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => certificate.Current());
                }
            });
            ListenDatabase(kestrel, options.Listeners.PgWriteEndpoint, DatabaseEndpointRole.Write);
            ListenDatabase(kestrel, options.Listeners.PgReadEndpoint, DatabaseEndpointRole.Read);
        });

        var services = builder.Services;
        var time = TimeProvider.System;
        var state = GatewayState.LoadOrCreate(new DurableStateStore(options.StateDirectory), options.ActiveSite, time);
        services.AddSingleton(time);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(state);
        services.AddSingleton(new SiteTopology(options.Sites));
        services.AddSingleton(new ActiveSiteState(state.Current.ActiveSite));
        services.AddSingleton(DrainState.Load(options.StateDirectory));
        services.AddSingleton<Alarms>();
        AddDatabase(services, state);
        services.AddSingleton(WriteGateAtStart(options.Coordinator, state, time));
        services.AddSingleton(options.Filestore.Replication);
        services.AddSingleton<FilestoreReplication>();
        services.AddHostedService(provider => provider.GetRequiredService<FilestoreReplication>());
        services.AddSingleton<SwitchMetrics>();
        services.AddSingleton<FilestoreMetrics>();
        services.AddSingleton<IHookProcess>(new ShellHookProcess(time));
        services.AddSingleton<SwitchHooks>();
        services.AddSingleton<SiteSwitch>();
        services.AddSingleton<FailbackPreparation>();
        services.AddSingleton(provider => new OperationGate(provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new OperationHistory(options.StateDirectory, provider.GetRequiredService<ILogger<OperationHistory>>()));
        services.AddSingleton<ExclusiveOperation>();
        services.AddSingleton(new AutomaticFailoverPause(options.StateDirectory));
        services.AddSingleton<DatabaseOperations>();
        services.AddSingleton<SanProbes>();
        services.AddHostedService(provider => provider.GetRequiredService<SanProbes>());
        services.AddSingleton(provider => new AuditLog(
            options.StateDirectory, provider.GetRequiredService<AdminApiMetrics>(), provider.GetRequiredService<ILogger<AuditLog>>()));
        services.AddSingleton<SiteCoordinator>();
        services.AddHostedService(provider => provider.GetRequiredService<SiteCoordinator>());
        services.AddHostedService<ReplicationWatch>();
        services.AddGatewayBackup(options);
        services.AddHostFiltering(filter =>
        {
            filter.AllowedHosts = options.Routing.AllowedHosts is [] ? ["*"] : options.Routing.AllowedHosts;
            // With a list of hosts, a request naming none (empty Host, or an HTTP/1.0 request without one) is refused too.
            filter.AllowEmptyHosts = options.Routing.AllowedHosts is [];
        });
        services.AddSingleton<ILoadBalancingPolicy, LeastLoadedPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, ConsecutiveFailuresPassivePolicy>();
        services.AddGatewayObservability(options.Observability);
        services.AddSingleton<ReloadingCertificate>();
        services.AddSingleton<IForwarderHttpClientFactory, ForwarderClientFactory>();
        services.AddReverseProxy()
            .LoadFromMemory([ProxyConfigFactory.Route()], [ProxyConfigFactory.Cluster(options)])
            .AddTransforms(transforms =>
            {
                transforms.RequestTransforms.Add(new ProxySpanPropagation());
                transforms.ResponseTransforms.Add(new HoldBackRetryableAnswerTransform());
            });
        services.AddSingleton(provider => new ConfigurationReloader(
            configuration,
            provider.GetRequiredService<InMemoryConfigProvider>(),
            provider.GetRequiredService<SiteTopology>(),
            provider.GetRequiredService<GatewayMetrics>(),
            provider.GetRequiredService<ILogger<ConfigurationReloader>>()));
        services.AddHostedService(provider => provider.GetRequiredService<ConfigurationReloader>());

        var app = builder.Build();
        app.UseMiddleware<RequestFramingMiddleware>();
        app.UseHostFiltering();
        app.MapReverseProxy(proxy =>
        {
            if (options.Observability.RequestTelemetry)
            {
                proxy.UseMiddleware<ProxyTelemetryMiddleware>();
            }

            proxy.UseMiddleware<WriteGateMiddleware>();
            proxy.UseMiddleware<SiteSelectionMiddleware>();
            proxy.UseMiddleware<IdempotentRetryMiddleware>();
            if (options.Observability.RequestTelemetry)
            {
                proxy.UseMiddleware<ProxyAttemptTracingMiddleware>();
            }

            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>A gateway killed in the middle of a site switch starts with HTTP writes held too, until the resumed switch routes them.</summary>
    private static WriteGate WriteGateAtStart(CoordinatorOptions coordinator, GatewayState state, TimeProvider time)
    {
        var gate = new WriteGate(coordinator.MaxHeldWrites, coordinator.MaxHoldTime, time);
        if (state.Current.Switching)
        {
            gate.Close();
        }

        return gate;
    }

    private static void AddDatabase(IServiceCollection services, GatewayState state)
    {
        // A gateway killed in the middle of a switch starts with writes held; the supervisor finishes the switch.
        services.AddSingleton(new DatabaseRoutingTable(state.Current.Switching ? null : state.Current.DatabasePrimary, state.Current.Epoch));
        services.AddSingleton<NodeConnections>();
        services.AddSingleton<DatabaseObserver>();
        services.AddHostedService(provider => provider.GetRequiredService<DatabaseObserver>());
        services.AddSingleton(provider => new DatabaseTargets(
            provider.GetRequiredService<SiteTopology>(),
            provider.GetRequiredService<DatabaseRoutingTable>(),
            () => provider.GetRequiredService<DatabaseObserver>().Current));
        services.AddSingleton<PgSessions>();
        services.AddSingleton<Database.Sessions.PgSessionMetrics>();
        services.AddSingleton<Database.Sessions.PgSessionMover>();
        services.AddSingleton<PgEndpointForwarder>();
        services.AddHostedService<GatewayShutdown>();
        services.AddSingleton<NodeCommands>();
        services.AddSingleton<DatabaseMetrics>();
        services.AddSingleton<DatabaseFailover>();
        services.AddSingleton<RejoinRunner>();
        services.AddHostedService<DatabaseSupervisor>();
    }

    private static WebApplication BuildAdmin(GatewayOptions options, IConfiguration configuration, IServiceProvider shared)
    {
        var builder = NewBuilder(configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Admin requests are small JSON documents; the admin filters answer a bigger one with 413 before reading it all,
            // and Kestrel's own limit stops a chunked body that keeps growing.
            kestrel.Limits.MaxRequestBodySize = options.Admin.MaxRequestBodySize;
            Listen(kestrel, options.Listeners.AdminUrl, _ => { });
        });

        var services = builder.Services;
        services.AddSingleton(AdminToken.Load(options.Admin));
        services.AddSingleton(options.Admin);
        services.AddSingleton(provider => new FailedAuthLimiter(
            options.Admin.MaxFailedAuthAttempts, options.Admin.FailedAuthWindow, provider.GetRequiredService<TimeProvider>()));
        // The admin host acts on the public host's live objects, never on copies.
        foreach (var type in new[]
                 {
                     typeof(TimeProvider), typeof(IProxyStateLookup), typeof(ActiveSiteState), typeof(GatewayState), typeof(Alarms), typeof(SiteTopology), typeof(DatabaseTargets),
                     typeof(DatabaseRoutingTable), typeof(DatabaseObserver), typeof(DatabaseFailover), typeof(RejoinRunner),
                     typeof(SiteSwitch), typeof(FailbackPreparation), typeof(WriteGate), typeof(FilestoreReplication), typeof(DrainState),
                     typeof(AuditLog), typeof(OperationGate), typeof(OperationHistory), typeof(AutomaticFailoverPause), typeof(DatabaseOperations),
                     typeof(SanProbes), typeof(SiteCoordinator),
                 })
        {
            services.AddSingleton(type, shared.GetRequiredService(type));
        }

        services.AddSingleton<GatewayStatusReader>();
        services.AddSharedObservability(shared);
        services.AddGatewayBackupShared(shared);

        var app = builder.Build();
        AdminEndpoints.Map(app);
        MetricsEndpoint.Map(app);
        return app;
    }

    private static void ApplyLimits(KestrelServerLimits kestrel, LimitsOptions limits)
    {
        kestrel.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        kestrel.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        kestrel.MaxRequestLineSize = limits.MaxRequestLineSize;
        kestrel.MaxRequestBodySize = limits.MaxRequestBodySize;
        kestrel.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyDataRate, limits.MinRequestBodyDataRateGracePeriod);
        kestrel.KeepAliveTimeout = limits.KeepAliveTimeout;
        kestrel.MaxConcurrentConnections = limits.MaxConcurrentConnections;
    }

    private static void Listen(KestrelServerOptions kestrel, string url, Action<ListenOptions> configure)
    {
        var uri = new Uri(url);
        if (uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _))
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port, configure);
        }
    }

    private static void ListenDatabase(KestrelServerOptions kestrel, string endpoint, DatabaseEndpointRole role) =>
        kestrel.Listen(IPEndPoint.Parse(endpoint), listen =>
        {
            var forwarder = listen.ApplicationServices.GetRequiredService<PgEndpointForwarder>();
            listen.Run(connection => forwarder.ForwardAsync(connection, role));
        });
}
