using Gateway.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Routing;

/// <summary>What one proxied request says about the instance that took it.</summary>
public enum RequestOutcome
{
    /// <summary>It answered with a status below 500.</summary>
    Answered,

    /// <summary>It answered with a 5xx status.</summary>
    ServerError,

    /// <summary>It refused, dropped or timed out the request (<see cref="TransportFaults.IsDestinationFault"/>).</summary>
    TransportFault,

    /// <summary>The client gave up or broke its own request: nothing is learnt about the instance.</summary>
    ClientFault,
}

/// <summary>
/// The runs of failures an instance is on: consecutive transport faults, and consecutive 5xx answers. Packs into one
/// <see cref="long"/> so that the policy can swap both at once without a lock.
/// </summary>
public readonly record struct FailureStreaks(int TransportFaults, int ServerErrors)
{
    public static readonly FailureStreaks None = new(0, 0);

    public long Pack() => ((long)ServerErrors << 32) | (uint)TransportFaults;

    public static FailureStreaks Unpack(long packed) => new((int)(packed & uint.MaxValue), (int)(packed >> 32));
}

/// <summary>The streaks after one request, and the sentence to log when the instance is to leave rotation (else null).</summary>
public readonly record struct PassiveStep(FailureStreaks Streaks, string? TakeOutBecause)
{
    public bool TakesOut => TakeOutBecause is not null;
}

/// <summary>
/// Passive health, decided: which requests count against an instance and when a run of them takes it out of rotation.
/// Pure; <see cref="ConsecutiveFailuresPassivePolicy"/> keeps the streaks and acts on the verdict.
/// </summary>
public static class PassiveHealth
{
    public static RequestOutcome Classify(ForwarderError error, int status) => error switch
    {
        ForwarderError.None => status >= 500 ? RequestOutcome.ServerError : RequestOutcome.Answered,
        _ when TransportFaults.IsDestinationFault(error) => RequestOutcome.TransportFault,
        _ => RequestOutcome.ClientFault,
    };

    /// <summary>
    /// The next streaks: an answer below 500 ends both runs; a 5xx answer ends the transport run and lengthens the
    /// 5xx one (with <see cref="HealthCheckOptions.UnhealthyAfterConsecutive5xx"/> at 0 it counts as any answer); a
    /// transport fault lengthens the transport run; a client's fault ends the transport run only (as before 5xx
    /// answers were counted). A run that reaches its threshold takes the instance out and both runs start again.
    /// </summary>
    public static PassiveStep Next(FailureStreaks streaks, ForwarderError error, int status, string instance, HealthCheckOptions health)
    {
        switch (Classify(error, status))
        {
            case RequestOutcome.Answered:
                return new(FailureStreaks.None, null);
            case RequestOutcome.ServerError when health.UnhealthyAfterConsecutive5xx == 0:
                return new(FailureStreaks.None, null);
            case RequestOutcome.ServerError:
                var serverErrors = streaks.ServerErrors + 1;
                return serverErrors >= health.UnhealthyAfterConsecutive5xx
                    ? new(FailureStreaks.None, TakeOut(instance, $"{serverErrors} consecutive 5xx answers (the last {status})", health))
                    : new(new(0, serverErrors), null);
            case RequestOutcome.TransportFault:
                var faults = streaks.TransportFaults + 1;
                return faults >= health.UnhealthyAfterRequestFailures
                    ? new(FailureStreaks.None, TakeOut(instance, $"{faults} consecutive failed request(s) (the last {error})", health))
                    : new(streaks with { TransportFaults = faults }, null);
            default:
                return new(streaks with { TransportFaults = 0 }, null);
        }
    }

    private static string TakeOut(string instance, string cause, HealthCheckOptions health) =>
        $"instance {instance} taken out of rotation after {cause}; it returns in {health.PassiveReactivationPeriod.TotalSeconds:0.###} s if its health probes pass";
}
