using System.Text.Json;

namespace Gateway.Cli.Connection;

/// <summary>What gatewayctl reads from the demo's gateway configuration (deploy/demo.sh writes it): the admin listener's URL.</summary>
public static class DemoConfiguration
{
    /// <summary>
    /// Gateway:Listeners:AdminUrl of the file, with a listen-on-every-address host (0.0.0.0, [::], *, +) replaced by
    /// 127.0.0.1, the address to call it on from this machine; or why it cannot be had.
    /// </summary>
    public static (string? Url, string? Error) AdminUrl(string configFile)
    {
        string? url;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configFile), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            url = Find(document.RootElement, "Gateway", "Listeners", "AdminUrl");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return (null, $"cannot read '{configFile}': {e.Message}");
        }

        if (url is null)
        {
            return (null, $"'{configFile}' has no Gateway:Listeners:AdminUrl");
        }

        return Uri.TryCreate(url.Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1"), UriKind.Absolute, out var parsed)
            ? (ToLocal(parsed), null)
            : (null, $"'{configFile}': Gateway:Listeners:AdminUrl '{url}' is not a URL");
    }

    private static string ToLocal(Uri url) => url.Host is "0.0.0.0" or "[::]" or "::"
        ? new UriBuilder(url) { Host = "127.0.0.1" }.Uri.ToString().TrimEnd('/')
        : url.ToString().TrimEnd('/');

    /// <summary>The string at the path, keys matched without regard to case as the gateway's configuration binder does.</summary>
    private static string? Find(JsonElement element, params string[] path)
    {
        foreach (var key in path)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var match = element.EnumerateObject().FirstOrDefault(property => string.Equals(property.Name, key, StringComparison.OrdinalIgnoreCase));
            if (match.Value.ValueKind == JsonValueKind.Undefined)
            {
                return null;
            }

            element = match.Value;
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }
}
