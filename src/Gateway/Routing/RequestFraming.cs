using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Routing;

/// <summary>
/// The framing rules the public listener adds to Kestrel's own parser, for requests whose length two HTTP parsers
/// could read differently (request smuggling). Kestrel already refuses duplicate or malformed Content-Length,
/// obsolete line folding and any Transfer-Encoding whose last coding is not chunked; what it lets through is decided
/// here, from the parsed headers alone.
/// </summary>
public static class RequestFraming
{
    /// <summary>
    /// Kestrel 10 accepts a request with both Transfer-Encoding and Content-Length by framing it as chunked and
    /// moving the Content-Length value into this header (RFC 9112 6.3 lets a server do that; it also lets it refuse).
    /// </summary>
    public const string KestrelMovedContentLength = "X-Content-Length";

    /// <summary>Why the request must be refused, or null when its framing is unambiguous.</summary>
    public static string? Refusal(string protocol, IHeaderDictionary headers)
    {
        // After a 101 the bytes of such a "body" and the tunnel's bytes are indistinguishable: whatever follows the
        // head would reach the instance unframed (upgrade smuggling). Kestrel 10 lets it through as a normal request.
        if (!StringValues.IsNullOrEmpty(headers[HeaderNames.Upgrade]) && (headers.ContentLength > 0 || IsChunked(headers)))
        {
            return "an Upgrade request with a body";
        }

        var transferEncoding = headers[HeaderNames.TransferEncoding];
        if (StringValues.IsNullOrEmpty(transferEncoding))
        {
            return null;
        }

        if (headers.ContainsKey(KestrelMovedContentLength) || headers.ContentLength is not null)
        {
            return "both Transfer-Encoding and Content-Length";
        }

        // HTTP/1.0 has no chunked coding: a 1.0 client sending one is not what it claims to be (RFC 9112 6.1).
        if (HttpProtocol.IsHttp10(protocol))
        {
            return "Transfer-Encoding in an HTTP/1.0 request";
        }

        // Kestrel only checks that the last coding is chunked; "identity, chunked" or "chunked, chunked" are framings
        // no real client sends and other parsers read differently.
        if (transferEncoding.Count != 1 || !string.Equals(transferEncoding[0]?.Trim(), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            return "Transfer-Encoding other than a single \"chunked\"";
        }

        return null;
    }

    public static bool IsChunked(IHeaderDictionary headers) => !StringValues.IsNullOrEmpty(headers[HeaderNames.TransferEncoding]);
}
