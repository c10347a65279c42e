using System.Net.Sockets;
using Gateway.Configuration;

namespace Gateway;

/// <summary>Command line: <c>Gateway --config &lt;file&gt;</c> (or GATEWAY_CONFIG). Exit codes: 0 stopped, 2 bad usage or configuration, 3 cannot listen.</summary>
public static class GatewayProgram
{
    public const int ExitBadConfiguration = 2;
    public const int ExitCannotListen = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        if (ConfigFileFrom(args) is not { } configFile)
        {
            await Console.Error.WriteLineAsync("usage: Gateway --config <file.json>   (or set GATEWAY_CONFIG)");
            return ExitBadConfiguration;
        }

        GatewayHost host;
        try
        {
            var configuration = GatewayConfigurationLoader.BuildConfiguration(configFile);
            var options = GatewayConfigurationLoader.Load(configuration, GatewayConfigurationLoader.AdminTokenFromEnvironment);
            host = GatewayHost.Create(options, configuration);
        }
        catch (InvalidConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"gateway: {configFile}: {e.Message}");
            return ExitBadConfiguration;
        }
        catch (Exception e) when (e is Cluster.EtcdUnavailableException or Cluster.ClusterIdentityException or Cluster.GatewayIdInUseException or Cluster.EtcdRefusedException)
        {
            await Console.Error.WriteLineAsync($"gateway: cluster: {e.Message}");
            return ExitBadConfiguration;
        }

        await using (host)
        {
            try
            {
                await host.StartAsync();
            }
            catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"gateway: cannot listen: {e.Message}");
                return ExitCannotListen;
            }

            await host.WaitForShutdownAsync();
            await host.StopAsync();
        }

        return 0;
    }

    private static string? ConfigFileFrom(string[] args)
    {
        if (args.Length == 2 && args[0] == "--config")
        {
            return args[1];
        }

        return args.Length == 0 ? Environment.GetEnvironmentVariable("GATEWAY_CONFIG") : null;
    }
}
