using System.Text.Json;
using Gateway.Model;

namespace Gateway.Coordinator.Admin;

/// <summary>
/// Strict reading of admin request bodies (<see cref="JsonDocuments"/>): unknown fields, missing required fields and
/// wrong types are refused with 400 and the parser's own words (which name the field).
/// </summary>
public static class AdminRequests
{
    public static readonly JsonSerializerOptions Json = JsonDocuments.Options;

    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request)
        where T : class
    {
        if (!(request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "the body must be JSON (Content-Type: application/json)"));
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Json, request.HttpContext.RequestAborted);
            return value is null ? (null, Problem(StatusCodes.Status400BadRequest, "the body must be a JSON object")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, $"invalid request body: {e.Message}"));
        }
    }

    public static IResult Problem(int status, string error) => Results.Json(new { error }, statusCode: status);
}
