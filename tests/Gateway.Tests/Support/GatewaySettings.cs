using Gateway.Configuration;
using Gateway.Testing;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Support;

/// <summary>
/// A valid gateway configuration on real directories (SAN A, SAN B, a filestore symlink to SAN A, a token file)
/// under a fresh temp directory, as flat configuration keys a test can change one at a time.
/// </summary>
public sealed class GatewaySettings : IDisposable
{
    public GatewaySettings(IReadOnlyList<string> siteAInstanceUrls, IReadOnlyList<string> siteBInstanceUrls, int pgPortA = 5432, int pgPortB = 5433)
    {
        Directory.CreateDirectory(SanA);
        Directory.CreateDirectory(SanB);
        File.CreateSymbolicLink(FilestoreLink, SanA);
        File.WriteAllText(TokenFile, AdminToken + "\n");

        Values["Gateway:ActiveSite"] = "A";
        AddSite(0, "A", "a", siteAInstanceUrls, SanA, pgPortA);
        AddSite(1, "B", "b", siteBInstanceUrls, SanB, pgPortB);
        Values["Gateway:Filestore:Links:0"] = FilestoreLink;
        Values["Gateway:Admin:TokenFile"] = TokenFile;
        Values["Gateway:StateDirectory"] = StateDirectory;
        Values["Gateway:Listeners:PublicUrl"] = $"http://127.0.0.1:{PublicPort}";
        Values["Gateway:Listeners:AdminUrl"] = $"http://127.0.0.1:{AdminPort}";
        Values["Gateway:Listeners:PgWriteEndpoint"] = $"127.0.0.1:{PgWritePort}";
        Values["Gateway:Listeners:PgReadEndpoint"] = $"127.0.0.1:{PgReadPort}";
        // Fast probes keep the tests short; the defaults (500 ms) are covered by the demo.
        Values["Gateway:Routing:HealthCheck:Interval"] = "00:00:00.200";
    }

    /// <summary>A configuration whose instances are placeholders (nothing listens there): for validation tests.</summary>
    public static GatewaySettings Placeholder() =>
        new(["http://127.0.0.1:5101", "http://127.0.0.1:5102"], ["http://127.0.0.1:5201", "http://127.0.0.1:5202"]);

    public string Root { get; } = Directory.CreateTempSubdirectory("gateway-test-").FullName;
    public string SanA => Path.Combine(Root, "san-a");
    public string SanB => Path.Combine(Root, "san-b");
    public string FilestoreLink => Path.Combine(Root, "filestore");
    public string TokenFile => Path.Combine(Root, "admin-token");
    public string StateDirectory => Path.Combine(Root, "state");
    public string AdminToken { get; } = Guid.NewGuid().ToString("N");
    public int PublicPort { get; } = FreePort.Next();
    public int AdminPort { get; } = FreePort.Next();
    public int PgWritePort { get; } = FreePort.Next();
    public int PgReadPort { get; } = FreePort.Next();

    public Dictionary<string, string?> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IConfigurationRoot Build() => new ConfigurationBuilder().AddInMemoryCollection(Values).Build();

    public GatewayOptions Load() => GatewayConfigurationLoader.Load(Build(), adminTokenFromEnvironment: false);

    /// <summary>The problems the loader reports, or none.</summary>
    public IReadOnlyList<ConfigurationError> Errors()
    {
        try
        {
            Load();
            return [];
        }
        catch (InvalidConfigurationException e)
        {
            return e.Errors;
        }
    }

    /// <summary>Writes the configuration as the JSON file the gateway process reads.</summary>
    public string WriteJsonFile()
    {
        var path = Path.Combine(Root, "gateway.json");
        var tree = new Dictionary<string, object>();
        foreach (var (key, value) in Values)
        {
            var parts = key.Split(':');
            var node = tree;
            foreach (var part in parts[..^1])
            {
                if (!node.TryGetValue(part, out var child))
                {
                    node[part] = child = new Dictionary<string, object>();
                }

                node = (Dictionary<string, object>)child;
            }

            node[parts[^1]] = value!;
        }

        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(ArraysFromIndexes(tree)));
        return path;
    }

    // Configuration keys number list elements (Sites:0:Id); JSON wants arrays there.
    private static object ArraysFromIndexes(object node) => node switch
    {
        Dictionary<string, object> map when map.Count > 0 && map.Keys.All(k => int.TryParse(k, out _)) =>
            map.OrderBy(pair => int.Parse(pair.Key)).Select(pair => ArraysFromIndexes(pair.Value)).ToList(),
        Dictionary<string, object> map => map.ToDictionary(pair => pair.Key, pair => ArraysFromIndexes(pair.Value)),
        _ => node,
    };

    private void AddSite(int index, string id, string prefix, IReadOnlyList<string> urls, string san, int pgPort)
    {
        var key = $"Gateway:Sites:{index}";
        Values[$"{key}:Id"] = id;
        Values[$"{key}:SanPath"] = san;
        Values[$"{key}:Database:Host"] = "127.0.0.1";
        Values[$"{key}:Database:Port"] = pgPort.ToString();
        for (var i = 0; i < urls.Count; i++)
        {
            Values[$"{key}:Instances:{i}:Id"] = $"{prefix}{i + 1}";
            Values[$"{key}:Instances:{i}:Url"] = urls[i];
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A test that made a directory unreadable may leave it behind in /tmp; not worth failing for.
        }
    }
}
