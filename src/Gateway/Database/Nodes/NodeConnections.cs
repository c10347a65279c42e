using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Database.Nodes;

/// <summary>
/// The gateway's own direct connections to each node (not through its endpoints), with the configured superuser.
/// The password comes from GATEWAY_DB_PASSWORD or the password file and lives only inside the data sources.
/// </summary>
public sealed class NodeConnections : IAsyncDisposable
{
    public const string PasswordVariable = "GATEWAY_DB_PASSWORD";

    private readonly Dictionary<string, NpgsqlDataSource> _nodes;

    public NodeConnections(IOptions<GatewayOptions> options, SiteTopology topology)
    {
        var database = options.Value.Database;
        var password = Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : database.PasswordFile is { Length: > 0 } file ? File.ReadAllText(file).Trim() : null;
        _nodes = topology.Sites.ToDictionary(site => site.Id, site => new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder
        {
            Host = site.Database.Host,
            Port = site.Database.Port,
            Username = database.Username,
            Password = password,
            Database = "postgres",
            ApplicationName = "gateway",
            Timeout = Math.Max(1, (int)Math.Ceiling(database.ObserveTimeout.TotalSeconds)),
            // A cancelled probe or action breaks its connection at once instead of waiting for the server to confirm
            // the cancellation: a frozen node (SIGSTOP, a hung host) never would.
            CancellationTimeout = -1,
            // A handful of connections is plenty for probes and actions; a dead node must not hoard sockets.
            MaxPoolSize = 4,
            ConnectionIdleLifetime = 10,
        }.ConnectionString).Build());
    }

    public NpgsqlDataSource For(string siteId) => _nodes[siteId];

    /// <summary>Forgets pooled connections to a node, so the next action does not trip over a socket a crash left dead.</summary>
    public void Reset(string siteId) => _nodes[siteId].Clear();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }
    }
}
