using System.Text.Json;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Cluster;

/// <summary>What a gateway publishes in members/{GatewayId}: where its admin API answers (a follower redirects state-changing calls there).</summary>
public sealed record MemberInfo(string GatewayId, string AdminUrl)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Encode() => JsonSerializer.Serialize(this, Json);

    public static MemberInfo? Decode(string value)
    {
        try
        {
            return JsonSerializer.Deserialize<MemberInfo>(value, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// This gateway's place in the cluster, made before the hosts are built: connected to etcd (identity checked),
/// registered under its session, the shared state read (or created by the first gateway). Everything the cluster
/// services use comes from here.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private ClusterNode(EtcdStore store, LeaderElection election, EtcdStateStore state, ILoggerFactory loggers)
    {
        Store = store;
        Election = election;
        State = state;
        Drains = new EtcdDrainStore(store, election);
        Pause = new EtcdPauseStore(store, election);
        Records = new EtcdRecords(store, election, loggers.CreateLogger<EtcdRecords>());
        Loggers = loggers;
    }

    public EtcdStore Store { get; }

    public LeaderElection Election { get; }

    public EtcdStateStore State { get; }

    public EtcdDrainStore Drains { get; }

    public EtcdPauseStore Pause { get; }

    /// <summary>The operation history and the audit log every gateway reads.</summary>
    public EtcdRecords Records { get; }

    public ClusterOptions Options => Store.Options;

    /// <summary>Logging for the etcd client and the election, which exist before the hosts' own logging does.</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>
    /// Null when Gateway:Cluster:Etcd:Endpoints is empty (the gateway runs alone). Otherwise connects, checks the
    /// prefix's identity, joins and reads the shared state, or throws: <see cref="EtcdUnavailableException"/> (no
    /// endpoint answered within StartupTimeout), <see cref="ClusterIdentityException"/>, <see cref="GatewayIdInUseException"/>.
    /// </summary>
    public static ClusterNode? ConnectIfConfigured(GatewayOptions options, TimeProvider time)
    {
        if (!options.Cluster.Enabled)
        {
            return null;
        }

        var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        }));
        EtcdStore? store = null;
        try
        {
            store = EtcdStore.ConnectAsync(options.Cluster, time, loggers.CreateLogger<EtcdStore>(), CancellationToken.None).GetAwaiter().GetResult();
            var election = new LeaderElection(store, loggers.CreateLogger<LeaderElection>());
            election.JoinAsync(new MemberInfo(options.Cluster.GatewayId, options.Cluster.AdminUrl is { Length: > 0 } advertised ? advertised : options.Listeners.AdminUrl).Encode(), CancellationToken.None).GetAwaiter().GetResult();
            var state = new EtcdStateStore(store, election);
            var startedAt = time.GetUtcNow();
            while (true)
            {
                try
                {
                    EnsureState(state, options.ActiveSite, time);
                    break;
                }
                catch (EtcdUnavailableException) when (time.GetUtcNow() - startedAt < options.Cluster.StartupTimeout)
                {
                    // A slow first answer (a member just started, a loaded machine): asked again until StartupTimeout.
                    Task.Delay(options.Cluster.RenewInterval, time).GetAwaiter().GetResult();
                }
            }

            return new ClusterNode(store, election, state, loggers);
        }
        catch
        {
            store?.Dispose();
            loggers.Dispose();
            throw;
        }
    }

    /// <summary>The first gateway of a new cluster writes the initial state; one that loses that race reads the winner's.</summary>
    private static void EnsureState(EtcdStateStore state, string activeSite, TimeProvider time)
    {
        if (state.Load() is not null)
        {
            return;
        }

        try
        {
            state.Save(null, DurableState.Initial(activeSite, time.GetUtcNow()));
        }
        catch (StateNotSavedException)
        {
            _ = state.Load() ?? throw new InvalidDataException($"etcd key {state}: created by another gateway and then gone");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Election.DisposeAsync();
        Store.Dispose();
        Loggers.Dispose();
    }
}
