using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Broker.Tests.Infrastructure;

/// <summary>A deposit as the tests read it off the wire (deliberately not the broker's own type).</summary>
public sealed record DepositJson(Guid Id, string Name, long Size, string Sha256, DateTimeOffset? CreatedAt, string ServedBy);

/// <summary>The broker's HTTP API as tests call it.</summary>
public sealed class BrokerApi(BrokerProcess broker) : IDisposable
{
    public HttpClient Http { get; } = new() { BaseAddress = new Uri(broker.Url), Timeout = TimeSpan.FromSeconds(30) };

    public Task<HttpResponseMessage> DepositAsync(string name, byte[] content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/deposits?name={Uri.EscapeDataString(name)}")
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        };
        // As curl does for large bodies: lets the broker refuse (413) before the body is sent, instead of the
        // client finding a closed connection mid-upload.
        request.Headers.ExpectContinue = true;
        return Http.SendAsync(request);
    }

    /// <summary>Deposits and insists on 201, returning the receipt.</summary>
    public async Task<DepositJson> DepositCreatedAsync(string name, byte[] content)
    {
        using var response = await DepositAsync(name, content);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<DepositJson>())!;
    }

    public async Task<DepositJson[]> ListAsync(string query)
    {
        using var response = await Http.GetAsync($"/deposits{query}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DepositJson[]>())!;
    }

    /// <summary>The names of a JSON object's properties, to pin the wire contract exactly.</summary>
    public static async Task<string[]> PropertyNamesAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateObject().Select(property => property.Name).ToArray();
    }

    /// <summary>The "error" message of a JSON error body.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("error").GetString()!;
    }

    public static string ServedBy(HttpResponseMessage response) => Assert.Single(response.Headers.GetValues("X-Served-By"));

    public void Dispose() => Http.Dispose();
}
