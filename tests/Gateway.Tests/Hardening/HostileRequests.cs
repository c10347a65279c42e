namespace Gateway.Tests.Hardening;

/// <summary>One hostile request, as the exact bytes a client writes, and the status the gateway must refuse it with.</summary>
public sealed record HostileRequest(string Name, int Status, string Bytes)
{
    public override string ToString() => Name;
}

/// <summary>
/// The refused vectors of the public listener. Each request path is /v/{name}; many carry a second request
/// (/smuggled/{name}) hidden where a parser that framed the first one differently would find it. Which layer refuses
/// each is noted (Kestrel's parser, or the gateway's <c>RequestFramingMiddleware</c> and host filter).
/// </summary>
public static class HostileRequests
{
    private const string Host = "Host: " + HostileInputGateway.AllowedHost + "\r\n";

    private static string Smuggled(string name) => $"GET /smuggled/{name} HTTP/1.1\r\n{Host}\r\n";

    private static HostileRequest Post(string name, int status, string headers, string body) =>
        new(name, status, $"POST /v/{name} HTTP/1.1\r\n{Host}{headers}\r\n{body}");

    private static HostileRequest Get(string name, int status, string headers) =>
        new(name, status, $"GET /v/{name} HTTP/1.1\r\n{headers}\r\n");

    /// <summary>A chunked body of one empty last chunk, followed by a smuggled request: what a Content-Length reader would take as body.</summary>
    private static string EndThenSmuggled(string name) => "0\r\n\r\n" + Smuggled(name);

    public static readonly HostileRequest[] All =
    [
        // Both framings (CL.TE / TE.CL). Kestrel frames it as chunked and passes it on with the length moved to
        // X-Content-Length; the gateway refuses it.
        Post("cl-te", 400, "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", EndThenSmuggled("cl-te")),
        Post("te-cl", 400, "Transfer-Encoding: chunked\r\nContent-Length: 60\r\n", EndThenSmuggled("te-cl")),

        // Obfuscated Transfer-Encoding next to a Content-Length: a parser that ignores the odd header reads by length.
        Post("te-xchunked", 400, "Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n", EndThenSmuggled("te-xchunked")),
        Post("te-leading-space", 400, "Content-Length: 5\r\nTransfer-Encoding:  chunked\r\n", EndThenSmuggled("te-leading-space")),
        Post("te-tab", 400, "Content-Length: 5\r\nTransfer-Encoding:\tchunked\r\n", EndThenSmuggled("te-tab")),
        Post("te-space-before-colon", 400, "Content-Length: 5\r\nTransfer-Encoding : chunked\r\n", EndThenSmuggled("te-space-before-colon")),
        Post("te-folded-header-line", 400, "Content-Length: 5\r\n Transfer-Encoding: chunked\r\n", EndThenSmuggled("te-folded-header-line")),
        Post("te-chunked-identity", 400, "Transfer-Encoding: chunked, identity\r\n", EndThenSmuggled("te-chunked-identity")),
        Post("te-identity-chunked", 400, "Transfer-Encoding: identity, chunked\r\n", EndThenSmuggled("te-identity-chunked")),
        Post("te-twice", 400, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", EndThenSmuggled("te-twice")),
        new("te-in-http10", 400, $"POST /v/te-in-http10 HTTP/1.0\r\n{Host}Transfer-Encoding: chunked\r\n\r\n{EndThenSmuggled("te-in-http10")}"),

        // Content-Length variants.
        Post("cl-duplicate-different", 400, "Content-Length: 3\r\nContent-Length: 40\r\n", "abc" + Smuggled("cl-duplicate-different")),
        Post("cl-duplicate-same", 400, "Content-Length: 3\r\nContent-Length: 3\r\n", "abc"),
        Post("cl-list", 400, "Content-Length: 3, 3\r\n", "abc"),
        Post("cl-negative", 400, "Content-Length: -3\r\n", "abc"),
        Post("cl-hex", 400, "Content-Length: 0x3\r\n", "abc"),
        Post("cl-inner-space", 400, "Content-Length: 3 0\r\n", "abc"),
        Post("cl-overflow", 400, "Content-Length: 99999999999999999999999\r\n", "abc"),

        // Chunk framing. Kestrel checks it only while the body is read, once the proxy has started forwarding: the
        // gateway reads chunked bodies to their end before forwarding. A size that overflows is a 500 from Kestrel alone.
        Post("chunk-size-overflow", 400, "Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFF3\r\nabc\r\n" + EndThenSmuggled("chunk-size-overflow")),
        Post("chunk-size-hex-prefix", 400, "Transfer-Encoding: chunked\r\n", "0x3\r\nabc\r\n0\r\n\r\n"),
        Post("chunk-size-bare-lf", 400, "Transfer-Encoding: chunked\r\n", "3\nabc\r\n0\r\n\r\n"),
        // CVE-2025-55315: a bare LF ends the extension for one parser and not for another; the smuggled request
        // sits where the lenient parser sees the next chunk.
        Post("chunk-extension-bare-lf", 400, "Transfer-Encoding: chunked\r\n", "2;\nxx\r\n45\r\n" + EndThenSmuggled("chunk-extension-bare-lf")),
        Post("chunk-extension-bare-cr", 400, "Transfer-Encoding: chunked\r\n", "2;\rxx\r\n45\r\n" + EndThenSmuggled("chunk-extension-bare-cr")),
        Post("chunk-data-longer-than-size", 400, "Transfer-Encoding: chunked\r\n", "3\r\nabcdef\r\n0\r\n\r\n"),
        Post("chunk-missing-crlf-after-data", 400, "Transfer-Encoding: chunked\r\n", "3\r\nabc0\r\n\r\n"),

        // Request line and header syntax.
        new("absolute-form-other-host", 400, $"GET http://evil.example/v/absolute-form-other-host HTTP/1.1\r\n{Host}\r\n"),
        Get("obs-fold", 400, $"{Host}X-Folded: one\r\n two\r\n"),
        new("bare-lf-line-endings", 400, $"GET /v/bare-lf-line-endings HTTP/1.1\n{Host.Replace("\r\n", "\n")}X-A: 1\n\n"),
        Get("space-in-header-name", 400, $"{Host}X Injected: 1\r\n"),
        Get("nul-in-header-value", 400, $"{Host}X-A: a\0b\r\n"),
        Post("upgrade-with-body", 400, "Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n", "abc"),

        // Header floods (limits: 64 headers, 32 KiB of headers, 8 KiB request line).
        Get("header-count-flood", 431, Host + string.Concat(Enumerable.Range(0, 100).Select(i => $"X-Flood-{i}: {i}\r\n"))),
        Get("header-size-flood", 431, Host + string.Concat(Enumerable.Range(0, 5).Select(i => $"X-Big-{i}: {new string('b', 8000)}\r\n"))),
        new("request-line-too-long", 414, $"GET /v/request-line-too-long?{new string('q', 9000)} HTTP/1.1\r\n{Host}\r\n"),

        // Host (allowed: gateway.test and 127.0.0.1).
        Get("host-not-allowed", 400, "Host: evil.example\r\n"),
        Get("host-empty", 400, "Host: \r\n"),
        Get("host-duplicate", 400, $"{Host}Host: evil.example\r\n"),
        Get("host-missing", 400, ""),
        new("host-missing-http10", 400, "GET /v/host-missing-http10 HTTP/1.0\r\n\r\n"),

        // Bodies over the limit (1 MiB in this fixture): refused before any of it is forwarded.
        Post("body-over-limit-declared", 413, $"Content-Length: {2 * HostileInputGateway.MaxBody}\r\n", new string('x', 1000)),
        Post("body-over-limit-chunked", 413, "Transfer-Encoding: chunked\r\n",
            $"{HostileInputGateway.MaxBody + 4096:x}\r\n" + new string('x', (int)HostileInputGateway.MaxBody + 4096) + "\r\n0\r\n\r\n"),
    ];

    public static HostileRequest Named(string name) => All.Single(request => request.Name == name);

    /// <summary>The names, as theory data: strings show each vector as its own test case.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var request in All)
        {
            data.Add(request.Name);
        }

        return data;
    }
}
