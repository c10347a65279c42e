using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Cli.Connection;

namespace Gateway.Cli.Api;

/// <summary>
/// The admin API over HTTP. Answers of any status come back as <see cref="ApiResponse"/> (judging them is the
/// caller's business); only "could not talk to the gateway at all" and "no answer in time" are exceptions.
/// </summary>
public sealed class AdminApiClient : IDisposable
{
    // A gateway that does not accept the connection within this is down or unreachable, however long the operation may take.
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    // A cluster follower answers a state-changing call 307 with the leader's URL; more hops than this is a loop.
    private const int MaxRedirects = 3;

    private readonly HttpClient _http;
    private readonly TimeSpan _requestTimeout;

    public AdminApiClient(ConnectionSettings connection, TimeSpan requestTimeout)
    {
        BaseUrl = connection.BaseUrl;
        _requestTimeout = requestTimeout;
        // Timeouts are per request (a status poll is short, a promotion long), so the client's own is off.
        // Redirects are followed here, not by the handler: it drops the Authorization header on a redirect.
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout, AllowAutoRedirect = false }) { BaseAddress = BaseUrl, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", connection.Token);
    }

    public Uri BaseUrl { get; }

    public Task<ApiResponse> GetAsync(string path, CancellationToken cancellation) => SendAsync(HttpMethod.Get, path, body: null, _requestTimeout, cancellation);

    /// <summary>A GET with its own, usually shorter, time limit: for polls that must not hold anything up.</summary>
    public Task<ApiResponse> GetAsync(string path, TimeSpan timeout, CancellationToken cancellation) => SendAsync(HttpMethod.Get, path, body: null, timeout, cancellation);

    public Task<ApiResponse> PostAsync(string path, object body, CancellationToken cancellation) => SendAsync(HttpMethod.Post, path, body, _requestTimeout, cancellation);

    private async Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body, TimeSpan timeout, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            var target = new Uri(BaseUrl, path.TrimStart('/'));
            for (var hop = 0; ; hop++)
            {
                // The same method, body and token again at the leader's address (307/308 keep the method and body).
                using var request = new HttpRequestMessage(method, target);
                if (body is not null)
                {
                    request.Content = new StringContent(JsonSerializer.Serialize(body, AdminJson.Options), Encoding.UTF8, "application/json");
                }

                using var response = await _http.SendAsync(request, deadline.Token);
                if (response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect && response.Headers.Location is { } location && hop < MaxRedirects)
                {
                    target = new Uri(target, location);
                    continue;
                }

                var text = await response.Content.ReadAsStringAsync(deadline.Token);
                return new ApiResponse(method.Method, "/" + path.TrimStart('/'), response.StatusCode, response.ReasonPhrase, response.Content.Headers.ContentType?.MediaType, text);
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new GatewayTimeoutException(method.Method, path, timeout);
        }
        catch (HttpRequestException e)
        {
            throw new GatewayUnreachableException($"cannot reach the gateway at {BaseUrl}: {Describe(e)}");
        }
    }

    // "Connection refused (127.0.0.1:8081)" says more than HttpRequestException's generic outer message.
    private static string Describe(HttpRequestException e) => e.InnerException?.Message is { Length: > 0 } inner ? inner : e.Message;

    public void Dispose() => _http.Dispose();
}

/// <summary>One answer of the admin API, whatever its status.</summary>
public sealed record ApiResponse(string Method, string Path, HttpStatusCode Status, string? Reason, string? MediaType, string Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public bool IsJson => MediaType?.EndsWith("json", StringComparison.OrdinalIgnoreCase) == true && Body.TrimStart() is ['{' or '[', ..];

    /// <summary>The text of an <c>{"error": "..."}</c> answer, which the gateway gives for every refusal it explains.</summary>
    public string? ErrorText
    {
        get
        {
            if (!IsJson)
            {
                return null;
            }

            try
            {
                using var document = JsonDocument.Parse(Body);
                return document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("error", out var error)
                    && error.ValueKind == JsonValueKind.String
                        ? error.GetString()
                        : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public string StatusText => $"HTTP {(int)Status} {Reason ?? Status.ToString()}";
}

public sealed class GatewayUnreachableException(string message) : Exception(message);

public sealed class GatewayTimeoutException(string method, string path, TimeSpan timeout)
    : Exception($"no answer to {method} /{path.TrimStart('/')} within {Rendering.Format.Duration(timeout)} (--timeout)")
{
    public bool WasOperation => method != HttpMethod.Get.Method;
}
