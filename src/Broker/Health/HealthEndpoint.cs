namespace Broker.Health;

internal static class HealthEndpoint
{
    public static void MapHealth(this IEndpointRouteBuilder endpoints) => endpoints.MapGet("/healthz", CheckAsync);

    private static async Task<IResult> CheckAsync(FilestoreProbe filestore, DatabaseProbe database, CancellationToken requestAborted)
    {
        var problem = filestore.FindProblem() ?? await database.FindProblemAsync(requestAborted);
        return problem is null
            ? Results.Json(HealthReport.Ok)
            : Results.Json(HealthReport.Unhealthy(problem), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
