using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Cli.Api;

/// <summary>
/// The JSON conventions of the admin API (camelCase, enums as strings). Reading is lenient on purpose: a field
/// added by a newer gateway is kept for generic display instead of failing the command.
/// </summary>
public static class AdminJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The document as <typeparamref name="T"/>, or null when its shape does not fit (the caller then shows it generically).</summary>
    public static T? TryRead<T>(string json)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
