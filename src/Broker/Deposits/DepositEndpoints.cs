using Broker.Configuration;
using Broker.Http;
using Broker.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Broker.Deposits;

internal static class DepositEndpoints
{
    public static void MapDeposits(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/deposits", CreateAsync);
        endpoints.MapGet("/deposits", ListAsync);
        endpoints.MapGet("/deposits/{id}", GetAsync);
        endpoints.MapGet("/deposits/{id}/content", GetContentAsync);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, [FromQuery] string? name, DepositFileStore files,
        DepositRepository repository, BrokerSettings settings, TimeProvider timeProvider, CancellationToken requestAborted)
    {
        if (!DepositName.IsValid(name, out var problem))
        {
            return ErrorResults.BadRequest(problem);
        }

        // Version 7 ids are time-ordered, which is what makes paging by "after this id" list deposits oldest first.
        var id = Guid.CreateVersion7(timeProvider.GetUtcNow());
        var stored = await files.SaveAsync(id, request.Body, requestAborted);
        var receipt = new DepositReceipt(id, name, stored.Size, stored.Sha256, settings.InstanceId);
        try
        {
            await repository.InsertAsync(receipt, requestAborted);
        }
        catch
        {
            // Without its row the file is unreachable: remove it rather than leak it into the filestore and its replica.
            files.Discard(stored);
            throw;
        }

        return Results.Created($"/deposits/{id}", receipt);
    }

    private static async Task<IResult> ListAsync([FromQuery] string? after, [FromQuery] string? limit,
        DepositRepository repository, CancellationToken requestAborted) =>
        PageRequest.TryParse(after, limit, out var page, out var problem)
            ? Results.Json(await repository.ListAsync(page, requestAborted))
            : ErrorResults.BadRequest(problem);

    private static async Task<IResult> GetAsync(string id, DepositRepository repository, CancellationToken requestAborted)
    {
        var (deposit, error) = await FindAsync(id, repository, requestAborted);
        return error ?? Results.Json(deposit);
    }

    private static async Task<IResult> GetContentAsync(string id, DepositRepository repository, DepositFileStore files,
        CancellationToken requestAborted)
    {
        var (deposit, error) = await FindAsync(id, repository, requestAborted);
        if (error is not null)
        {
            return error;
        }

        var content = files.OpenContent(deposit!.Id);
        // A seekable stream lets the result set Content-Length; the result disposes the stream when sent.
        return content is null
            ? ErrorResults.NotFound($"content of deposit {deposit.Id} is missing from the filestore")
            : Results.Stream(content, "application/octet-stream");
    }

    /// <summary>Looks up a deposit by its raw route value: either the deposit, or the 400/404 to answer instead.</summary>
    private static async Task<(Deposit? Deposit, IResult? Error)> FindAsync(string rawId, DepositRepository repository,
        CancellationToken requestAborted)
    {
        if (!Guid.TryParse(rawId, out var id))
        {
            return (null, ErrorResults.BadRequest("id must be a deposit id (a GUID)"));
        }

        var deposit = await repository.FindAsync(id, requestAborted);
        return deposit is null ? (null, ErrorResults.NotFound($"deposit {id} not found")) : (deposit, null);
    }
}
