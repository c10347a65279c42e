using Gateway.Coordinator.Draining;
using Gateway.Model;
using Gateway.Operations;
using Gateway.Routing;
using Yarp.ReverseProxy;

namespace Gateway.Coordinator.Admin;

/// <summary>Drain or undrain one target: exactly one of the two fields.</summary>
public sealed record DrainRequest(string? Site = null, string? Instance = null);

/// <summary>
/// The answer to a drain or undrain, in the shape of the other operation reports (verdict, sentence, steps: none,
/// a drain is one atomic change). <see cref="InFlight"/> counts the requests the target was still answering when
/// the drain took effect: they finish, and the operator waits for that number to reach 0 in the status.
/// </summary>
public sealed record DrainReport(
    string Kind, bool Succeeded, string Summary, IReadOnlyList<StepRecord> Steps, string Target, bool Changed, int InFlight, DrainStatus Drained);

/// <summary>POST /admin/drain and /admin/undrain: take a site or an instance out of routing for new requests, and back.</summary>
public static partial class DrainEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/drain", DrainAsync);
        admin.MapPost("/undrain", UndrainAsync);
    }

    private static async Task<IResult> DrainAsync(HttpRequest request, DrainState drains, SiteTopology topology, IProxyStateLookup proxyState, ILoggerFactory loggers)
    {
        var (target, error) = await ReadTargetAsync(request, topology);
        if (target is null)
        {
            return error!;
        }

        var instances = topology.Sites.SelectMany(site => site.Instances.Select(instance => (site.Id, instance.Id))).ToList();
        var outcome = drains.Change(current => DrainDecision.Drain(current, target, instances));
        if (outcome.IsRefused)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, outcome.Refusal!);
        }

        // Read after the change took effect: nothing new starts there any more, so this number only goes down.
        var inFlight = InFlight(proxyState, target);
        var summary = $"{target} {(outcome.Changed ? "drained" : "was already drained")}: {Requests(inFlight)} in flight";
        Log.Drained(loggers.CreateLogger(typeof(DrainEndpoints)), summary);
        return Report("Drain", summary, target, outcome, inFlight);
    }

    private static async Task<IResult> UndrainAsync(HttpRequest request, DrainState drains, SiteTopology topology, IProxyStateLookup proxyState, ILoggerFactory loggers)
    {
        var (target, error) = await ReadTargetAsync(request, topology);
        if (target is null)
        {
            return error!;
        }

        var outcome = drains.Change(current => DrainDecision.Undrain(current, target));
        var still = outcome.Next.IsEmpty ? "" : $" (still drained: {outcome.Next})";
        var summary = outcome.Changed ? $"{target} undrained: routed again{still}" : $"{target} was not drained{still}";
        Log.Undrained(loggers.CreateLogger(typeof(DrainEndpoints)), summary);
        return Report("Undrain", summary, target, outcome, InFlight(proxyState, target));
    }

    /// <summary>The request's target, or 400 (not exactly one of site and instance) or 404 (no such site or instance).</summary>
    private static async Task<(DrainTarget? Target, IResult? Error)> ReadTargetAsync(HttpRequest request, SiteTopology topology)
    {
        var (body, error) = await AdminRequests.ReadAsync<DrainRequest>(request);
        if (body is null)
        {
            return (null, error);
        }

        if ((body.Site is null) == (body.Instance is null))
        {
            return (null, AdminRequests.Problem(StatusCodes.Status400BadRequest, "give exactly one of the fields site and instance"));
        }

        if (body.Site is { } site)
        {
            return topology.Sites.Any(s => s.Id == site)
                ? (DrainTarget.Site(site), null)
                : (null, AdminRequests.Problem(StatusCodes.Status404NotFound, $"unknown site '{site}'"));
        }

        return topology.Sites.Any(s => s.Instances.Any(i => i.Id == body.Instance))
            ? (DrainTarget.Instance(body.Instance!), null)
            : (null, AdminRequests.Problem(StatusCodes.Status404NotFound, $"unknown instance '{body.Instance}'"));
    }

    private static int InFlight(IProxyStateLookup proxyState, DrainTarget target) =>
        proxyState.TryGetCluster(ProxyDestinations.ClusterId, out var cluster)
            ? cluster.Destinations.Values
                .Where(d => target.IsSite ? ProxyDestinations.SiteOf(d) == target.Id : d.DestinationId == target.Id)
                .Sum(d => d.ConcurrentRequestCount)
            : 0;

    private static string Requests(int count) => count == 1 ? "1 request" : $"{count} requests";

    private static IResult Report(string kind, string summary, DrainTarget target, DrainVerdict outcome, int inFlight) =>
        Results.Json(
            new DrainReport(kind, Succeeded: true, summary, [], target.ToString(), outcome.Changed, inFlight, new DrainStatus(outcome.Next.Sites, outcome.Next.Instances)),
            AdminRequests.Json);
}
