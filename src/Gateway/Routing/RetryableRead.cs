using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// A read on its first attempt, which <see cref="IdempotentRetryMiddleware"/> may still send to another instance: a
/// request feature, so that <see cref="HoldBackRetryableAnswerTransform"/> knows the instances a retry could go to and
/// can tell the middleware that it held an answer back. Absent on writes and on the retry itself.
/// </summary>
public sealed class RetryableRead(IReadOnlyList<DestinationState> candidates)
{
    /// <summary>The status of the answer that was not copied to the client, or 0 when none was held back.</summary>
    public int HeldBackStatus { get; set; }

    /// <summary>The candidates other than the one that failed and those passive health has taken out since.</summary>
    public List<DestinationState> Others(DestinationState failed)
    {
        var others = new List<DestinationState>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if (IsOther(candidate, failed))
            {
                others.Add(candidate);
            }
        }

        return others;
    }

    public bool HasOther(DestinationState failed)
    {
        foreach (var candidate in candidates)
        {
            if (IsOther(candidate, failed))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOther(DestinationState candidate, DestinationState failed) =>
        candidate != failed && candidate.Health.Passive != DestinationHealth.Unhealthy;
}
