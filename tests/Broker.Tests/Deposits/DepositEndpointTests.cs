using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Deposits;

[Integration]
[Collection(PostgresCollection.Name)]
public sealed class DepositEndpointTests(BrokerEnvironment environment) : IDisposable
{
    private readonly BrokerApi _api = new(environment.SharedBroker);

    [Fact]
    public async Task A_deposit_can_be_read_back_byte_for_byte_with_its_metadata()
    {
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var expectedSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));

        using var created = await _api.DepositAsync("report.pdf", bytes);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("t1", BrokerApi.ServedBy(created));
        Assert.Equal(["id", "name", "size", "sha256", "servedBy"], await BrokerApi.PropertyNamesAsync(created));
        var receipt = (await created.Content.ReadFromJsonAsync<DepositJson>())!;
        Assert.Equal($"/deposits/{receipt.Id}", created.Headers.Location?.OriginalString);
        Assert.Equal(7, receipt.Id.Version);
        Assert.Equal(("report.pdf", 300_000L, expectedSha256, "t1"), (receipt.Name, receipt.Size, receipt.Sha256, receipt.ServedBy));

        using var metadata = await _api.Http.GetAsync($"/deposits/{receipt.Id}");
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal("t1", BrokerApi.ServedBy(metadata));
        Assert.Equal(["id", "name", "size", "sha256", "createdAt", "servedBy"], await BrokerApi.PropertyNamesAsync(metadata));
        var stored = (await metadata.Content.ReadFromJsonAsync<DepositJson>())!;
        Assert.Equal(receipt with { CreatedAt = stored.CreatedAt }, stored);
        Assert.InRange(stored.CreatedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        // Headers only at first: a buffered body would let HttpClient compute a Content-Length the broker never sent.
        using var content = await _api.Http.GetAsync($"/deposits/{receipt.Id}/content", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, content.StatusCode);
        Assert.Equal("t1", BrokerApi.ServedBy(content));
        Assert.Equal("application/octet-stream", content.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes.Length, content.Content.Headers.ContentLength);
        var served = await content.Content.ReadAsByteArrayAsync();
        Assert.Equal(expectedSha256, Convert.ToHexStringLower(SHA256.HashData(served)));
    }

    [Fact]
    public async Task A_deposit_lands_as_one_file_and_one_row()
    {
        var receipt = await _api.DepositCreatedAsync("data.bin", RandomNumberGenerator.GetBytes(10_000));

        Assert.True(File.Exists(Path.Combine(environment.Filestore.DepositsDirectory, receipt.Id.ToString())));
        Assert.DoesNotContain(Directory.EnumerateFiles(environment.Filestore.DepositsDirectory),
            path => Path.GetFileName(path).StartsWith(".", StringComparison.Ordinal));
        var rowSha256 = await environment.Postgres.Primary.ScalarAsync<string>(
            $"SELECT sha256 FROM deposits WHERE id = '{receipt.Id}' AND served_by = 't1' AND size = 10000", BrokerEnvironment.SharedDatabase);
        Assert.Equal(receipt.Sha256, rowSha256);
    }

    [Fact]
    public async Task Listing_pages_through_deposits_in_id_order()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await _api.DepositCreatedAsync($"page-{i}", [(byte)i])).Id.ToString());
        }

        // Version 7 ids only order by millisecond, so expect the database's (byte-wise) order, not creation order.
        ids.Sort(StringComparer.Ordinal);

        var firstPage = await _api.ListAsync($"?after={ids[0]}&limit=2");
        var secondPage = await _api.ListAsync($"?after={firstPage[^1].Id}&limit=2");
        var lastPage = await _api.ListAsync($"?after={secondPage[^1].Id}&limit=2");

        Assert.Equal(ids[1..3], firstPage.Select(deposit => deposit.Id.ToString()));
        Assert.Equal(ids[3..5], secondPage.Select(deposit => deposit.Id.ToString()));
        Assert.Empty(lastPage);
        Assert.All(firstPage.Concat(secondPage), deposit => Assert.NotNull(deposit.CreatedAt));
    }

    [Fact]
    public async Task Listing_without_after_starts_at_the_lowest_id_and_defaults_to_100()
    {
        for (var i = 0; i < 3; i++)
        {
            await _api.DepositCreatedAsync($"default-page-{i}", [1]);
        }

        var all = await _api.ListAsync("?limit=1000");
        var defaultPage = await _api.ListAsync("");

        Assert.Equal(all.Select(deposit => deposit.Id.ToString()).Order(StringComparer.Ordinal), all.Select(deposit => deposit.Id.ToString()));
        Assert.Equal(all.Take(100), defaultPage);
    }

    [Theory]
    [InlineData("POST", "/deposits", "name is required")]
    [InlineData("POST", "/deposits?name=", "name must be 1 to 255 characters long")]
    [InlineData("POST", "/deposits?name=a%2Fb", "name must not contain '/'")]
    [InlineData("POST", "/deposits?name=a%00b", "name must not contain control characters")]
    [InlineData("GET", "/deposits?limit=0", "limit must be a whole number from 1 to 1000")]
    [InlineData("GET", "/deposits?limit=1001", "limit must be a whole number from 1 to 1000")]
    [InlineData("GET", "/deposits?after=yesterday", "after must be a deposit id (a GUID)")]
    [InlineData("GET", "/deposits/12345", "id must be a deposit id (a GUID)")]
    [InlineData("GET", "/deposits/12345/content", "id must be a deposit id (a GUID)")]
    public async Task Bad_requests_get_400_with_the_reason(string method, string path, string expectedError)
    {
        var filesBefore = Directory.GetFiles(environment.Filestore.DepositsDirectory).Length;

        using var response = await _api.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent([1, 2, 3]) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expectedError, await BrokerApi.ErrorAsync(response));
        Assert.Equal("t1", BrokerApi.ServedBy(response));
        Assert.Equal(filesBefore, Directory.GetFiles(environment.Filestore.DepositsDirectory).Length);
    }

    [Theory]
    [InlineData("/deposits/{0}")]
    [InlineData("/deposits/{0}/content")]
    public async Task An_unknown_deposit_is_404(string pathFormat)
    {
        var unknown = Guid.CreateVersion7();

        using var response = await _api.Http.GetAsync(string.Format(pathFormat, unknown));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal($"deposit {unknown} not found", await BrokerApi.ErrorAsync(response));
        Assert.Equal("t1", BrokerApi.ServedBy(response));
    }

    [Fact]
    public async Task Content_missing_from_the_filestore_is_404_while_metadata_remains()
    {
        var receipt = await _api.DepositCreatedAsync("lost.bin", [1, 2, 3]);
        File.Delete(Path.Combine(environment.Filestore.DepositsDirectory, receipt.Id.ToString()));

        using var content = await _api.Http.GetAsync($"/deposits/{receipt.Id}/content");
        using var metadata = await _api.Http.GetAsync($"/deposits/{receipt.Id}");

        Assert.Equal(HttpStatusCode.NotFound, content.StatusCode);
        Assert.Contains("missing from the filestore", await BrokerApi.ErrorAsync(content));
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
    }

    [Fact]
    public async Task A_body_over_64_MiB_is_refused_with_413_and_leaves_no_file()
    {
        var filesBefore = Directory.GetFileSystemEntries(environment.Filestore.DepositsDirectory).Length;

        using var response = await _api.DepositAsync("huge.bin", new byte[64 * 1024 * 1024 + 1]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("too large", await BrokerApi.ErrorAsync(response));
        Assert.Equal("t1", BrokerApi.ServedBy(response));
        Assert.Equal(filesBefore, Directory.GetFileSystemEntries(environment.Filestore.DepositsDirectory).Length);
    }

    [Fact]
    public async Task A_body_of_exactly_64_MiB_is_accepted()
    {
        var receipt = await _api.DepositCreatedAsync("largest.bin", new byte[64 * 1024 * 1024]);

        Assert.Equal(64L * 1024 * 1024, receipt.Size);
    }

    public void Dispose() => _api.Dispose();
}
