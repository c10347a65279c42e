namespace Broker.Http;

/// <summary>The single shape of every error body: <c>{"error":"..."}</c>.</summary>
internal sealed record ErrorBody(string Error);

internal static class ErrorResults
{
    public static IResult BadRequest(string message) => Json(StatusCodes.Status400BadRequest, message);

    public static IResult NotFound(string message) => Json(StatusCodes.Status404NotFound, message);

    public static IResult Json(int statusCode, string message) => Results.Json(new ErrorBody(message), statusCode: statusCode);
}
