using System.Net;
using Gateway.Backup;
using Gateway.Cluster;
using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Coordinator.Admin;
using Gateway.Database;
using Gateway.Filestore;
using Gateway.Model;
using Gateway.Observability;
using Gateway.Routing;
using Gateway.Routing.Reload;
using Gateway.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway;

/// <summary>
/// The gateway process: a public host (the YARP proxy, and the PostgreSQL endpoints on a server of their own, see
/// <see cref="PgEndpointServer"/>) and an admin host on its own
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

    /// <param name="time">The clock of every component, <see cref="TimeProvider.System"/> unless a test brings its own.</param>
    public static GatewayHost Create(GatewayOptions options, IConfiguration configuration, TimeProvider? time = null)
    {
        var publicApp = BuildPublic(options, configuration, time ?? TimeProvider.System);
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

    private static WebApplication BuildPublic(GatewayOptions options, IConfiguration configuration, TimeProvider time)
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
        });

        // One recipe per feature, in this order: hosted services start in registration order (the database observer
        // and supervisor before the filestore replicator and the site coordinator, backup recovery before its
        // scheduler, the configuration reloader last, once the proxy it reloads is registered).
        // Cluster mode (Gateway:Cluster:Etcd): joined and the shared state read before anything is registered; null when alone.
        var cluster = ClusterNode.ConnectIfConfigured(options, time);
        builder.Services
            .AddGatewayModel(options, time, cluster?.State, cluster?.Drains)
            .AddGatewayDatabase(options)
            .AddHostedService<GatewayShutdown>()
            .AddGatewayFilestore(options)
            .AddGatewayCoordinator(options, cluster?.Pause, cluster?.Records)
            .AddGatewayBackup(options)
            .AddGatewayObservability(options)
            .AddGatewayTls(options)
            .AddGatewayRouting(options)
            .AddGatewayConfigurationReload(configuration)
            .AddGatewayCluster(cluster)
            .AddGatewayDatabaseEndpoints();

        var app = builder.Build();
        app.UseGatewayRouting(options);
        return app;
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

        builder.Services.AddGatewayAdmin(options, shared);

        var app = builder.Build();
        BackupEndpoints.Map(AdminEndpoints.Map(app));
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
}
