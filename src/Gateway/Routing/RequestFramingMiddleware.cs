using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Routing;

/// <summary>
/// First in the public pipeline: refuses a request whose framing is ambiguous (<see cref="RequestFraming"/>), whose
/// declared body is over the limit, or whose chunked body turns out to be malformed, before any instance sees any of
/// it. Every refusal closes the connection, so bytes after a bad request can never be read as a next request.
/// </summary>
/// <remarks>
/// Kestrel checks chunk framing (sizes, extensions with a bare CR or LF as in CVE-2025-55315, suffixes) only as the
/// body is read, and checks a Content-Length against the body limit only when reading starts; the proxy has sent the
/// request head to an instance by then. So a declared length over the limit is refused up front, and a chunked body
/// is read in full (in memory up to <see cref="InMemoryChunkedBody"/>, then spooled to a temporary file) and
/// forwarded only once it has been parsed to its last chunk. Bodies with a Content-Length stream through unchanged.
/// </remarks>
public sealed partial class RequestFramingMiddleware(RequestDelegate next, ILogger<RequestFramingMiddleware> logger)
{
    public const int InMemoryChunkedBody = 64 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (RequestFraming.Refusal(request.Protocol, request.Headers) is { } ambiguity)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, ambiguity);
            return;
        }

        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (request.ContentLength > limit)
        {
            await RefuseAsync(context, StatusCodes.Status413RequestEntityTooLarge, $"a body of {request.ContentLength} bytes, over the limit of {limit}");
            return;
        }

        if (RequestFraming.IsChunked(request.Headers) && await ReadChunkedBodyAsync(context) is { } malformed)
        {
            await RefuseAsync(context, malformed.Status, malformed.Reason);
            return;
        }

        await next(context);
    }

    /// <summary>Reads the whole chunked body into a rewindable buffer; returns why it was refused, or null when it is well formed.</summary>
    private static async Task<(int Status, string Reason)?> ReadChunkedBodyAsync(HttpContext context)
    {
        var request = context.Request;
        request.EnableBuffering(InMemoryChunkedBody);
        try
        {
            await request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            // Bad chunk size, extension or suffix (400), or more than the body limit (413).
            return (e.StatusCode, e.Message);
        }
        catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports a chunk size that overflows as a plain IOException ("Bad chunk size data").
            return (StatusCodes.Status400BadRequest, e.Message);
        }

        request.Body.Position = 0;
        return null;
    }

    private async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        Log.Refused(logger, status, context.Connection.RemoteIpAddress?.ToString(), reason);
        context.Response.StatusCode = status;
        context.Response.Headers.Connection = "close";
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync($"gateway: request refused: {reason}\n");
    }
}
