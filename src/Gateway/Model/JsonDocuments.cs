using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Model;

/// <summary>
/// How the gateway reads and writes its JSON documents (admin request bodies and answers, the operation history):
/// web casing, enums by name, and strict reading: unknown fields, missing required fields and wrong types are
/// refused, so a typo never silently means a default.
/// </summary>
public static class JsonDocuments
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
    };
}
