using System.Text.RegularExpressions;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;

namespace Gateway;

/// <summary>
/// Reads the configuration file (JSON) with environment-variable overrides (Gateway__ActiveSite=B), binds it strictly
/// (an unknown or misspelt key is an error, not silently ignored) and validates it.
/// </summary>
public static partial class GatewayConfigurationLoader
{
    public const string AdminTokenVariable = "GATEWAY_ADMIN_TOKEN";

    /// <summary>Whether the admin token comes from <see cref="AdminTokenVariable"/>, so no token file is required.</summary>
    public static bool AdminTokenFromEnvironment => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(AdminTokenVariable));

    public static IConfigurationRoot BuildConfiguration(string configFile, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        if (!File.Exists(configFile))
        {
            throw new InvalidConfigurationException([new("--config", $"configuration file '{configFile}' does not exist")]);
        }

        var loaded = false;
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(source =>
            {
                // Watched for the instance lists (Reload/ConfigurationReloader), by polling its time stamp every 4 s
                // rather than with inotify: the file usually sits in the state directory, beside database and SAN
                // directories that a recursive watcher would follow into. SIGHUP reloads at once.
                var path = Path.GetFullPath(configFile);
                source.FileProvider = new PhysicalFileProvider(Path.GetDirectoryName(path)!, ExclusionFilters.None)
                {
                    UsePollingFileWatcher = true,
                    UseActivePolling = true,
                };
                source.Path = Path.GetFileName(path);
                source.Optional = false;
                source.ReloadOnChange = true;
                // Unreadable at start: the error stops the gateway. Caught half-saved (or unreadable) on a reload, it
                // reads as empty instead of throwing on the polling thread, and the reloader refuses it.
                source.OnLoadException = failure => failure.Ignore = loaded;
            })
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides ?? [])
            .Build();
        loaded = true;
        return configuration;
    }

    /// <summary>Binds and validates; throws <see cref="InvalidConfigurationException"/> listing every problem.</summary>
    public static GatewayOptions Load(IConfiguration configuration, bool adminTokenFromEnvironment)
    {
        var section = configuration.GetSection(GatewayOptions.SectionName);
        if (!section.Exists())
        {
            throw new InvalidConfigurationException([new(GatewayOptions.SectionName, "section is missing")]);
        }

        var options = Bind(section);
        var errors = new GatewayOptionsValidator().Check(GatewayOptions.SectionName, options)
            .Concat(new GatewayOptionsRules(adminTokenFromEnvironment).Errors(options))
            .ToList();
        return errors.Count == 0 ? options : throw new InvalidConfigurationException(errors);
    }

    private static GatewayOptions Bind(IConfigurationSection section)
    {
        var unknown = UnknownKeys.Find(section, typeof(GatewayOptions))
            .Select(key => new ConfigurationError(key, "unknown key (misspelt, or not a setting of this version)"))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidConfigurationException(unknown);
        }

        try
        {
            return section.Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException e)
        {
            // "Failed to convert configuration value 'x' at 'Gateway:Routing:WritePolicy' to type ...": keep the binder's words, lead with the key.
            var key = ConversionKey().Match(e.Message) is { Success: true } match ? match.Groups[1].Value : GatewayOptions.SectionName;
            var detail = e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}";
            throw new InvalidConfigurationException([new(key, detail)]);
        }
    }

    [GeneratedRegex(" at '([^']+)'")]
    private static partial Regex ConversionKey();
}
