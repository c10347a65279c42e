using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Routing;

/// <summary>Which forwarding errors are the destination's fault (and so count against its health, or allow a retry).</summary>
public static class TransportFaults
{
    /// <summary>
    /// True when the instance failed: it refused or dropped the connection, timed out, or broke a body. Errors the
    /// client caused (cancelled, aborted its own body) say nothing about the instance.
    /// </summary>
    public static bool IsDestinationFault(ForwarderError error) => error switch
    {
        ForwarderError.Request => true,
        ForwarderError.RequestTimedOut => true,
        ForwarderError.RequestBodyDestination => true,
        ForwarderError.ResponseBodyDestination => true,
        ForwarderError.UpgradeRequestDestination => true,
        ForwarderError.UpgradeResponseDestination => true,
        _ => false,
    };

    /// <summary>
    /// A request may be sent again to another instance only when it is idempotent, no byte of the answer has
    /// reached the client, it has not been retried yet, and the instance failed before answering
    /// (<see cref="ForwarderError.Request"/>: connection refused or dropped before the response headers).
    /// </summary>
    public static bool MayRetry(RequestKind kind, ForwarderError error, bool responseStarted, int attempt) =>
        kind == RequestKind.Read && error == ForwarderError.Request && !responseStarted && attempt == 1;
}
