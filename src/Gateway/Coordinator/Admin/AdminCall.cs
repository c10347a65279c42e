namespace Gateway.Coordinator.Admin;

/// <summary>
/// What the admin filters learn about one call and hand to each other (as an HttpContext feature): the request
/// body, read once and bounded, so the audit can record it and the handler still parses it; whether it was over
/// the limit; and whether the audit may leave this call out (repeated refusals of a locked-out address).
/// </summary>
public sealed class AdminCall
{
    private AdminCall(byte[] body, bool bodyTooLarge)
    {
        Body = body;
        BodyTooLarge = bodyTooLarge;
    }

    /// <summary>The body as received, or its first part when it was too large.</summary>
    public byte[] Body { get; }

    public bool BodyTooLarge { get; }

    public bool SkipAudit { get; set; }

    /// <summary>Who called: the remote address as the gateway saw it (admin requests are not proxied, so no header is trusted).</summary>
    public static string CallerOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// Reads the body, at most <paramref name="limit"/> bytes, and puts it back for the handler. A larger one is not
    /// read further (Kestrel's own limit, set to the same value, stops a chunked body that would grow beyond it).
    /// </summary>
    public static async Task<AdminCall> CaptureAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit)
        {
            return new AdminCall([], bodyTooLarge: true);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return new AdminCall(buffer.ToArray(), bodyTooLarge: true);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new AdminCall(buffer.ToArray(), bodyTooLarge: true);
        }

        var call = new AdminCall(buffer.ToArray(), bodyTooLarge: false);
        request.Body = new MemoryStream(call.Body, writable: false);
        return call;
    }

    /// <summary>The endpoint filter refusing a body over the limit with 413; after the token check, so strangers get 401, not a size hint.</summary>
    public static async ValueTask<object?> RequireBodyWithinLimitAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        if (http.Features.Get<AdminCall>() is not { BodyTooLarge: true })
        {
            return await next(invocation);
        }

        var limit = http.RequestServices.GetRequiredService<AdminOptions>().MaxRequestBodySize;
        return AdminRequests.Problem(StatusCodes.Status413PayloadTooLarge, $"the body is larger than admin requests may be ({limit} bytes)");
    }
}
