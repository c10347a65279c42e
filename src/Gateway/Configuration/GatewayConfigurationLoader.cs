using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>
/// Reads the configuration file (JSON) with environment-variable overrides (Gateway__ActiveSite=B), binds it strictly
/// (an unknown or misspelt key is an error, not silently ignored) and validates it.
/// </summary>
public static partial class GatewayConfigurationLoader
{
    public const string AdminTokenVariable = "GATEWAY_ADMIN_TOKEN";

    public static IConfigurationRoot BuildConfiguration(string configFile, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        if (!File.Exists(configFile))
        {
            throw new InvalidConfigurationException([new("--config", $"configuration file '{configFile}' does not exist")]);
        }

        return new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides ?? [])
            .Build();
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
        var errors = GatewayOptionsValidator.Validate(options, adminTokenFromEnvironment);
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
