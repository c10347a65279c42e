using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Routing;

public sealed partial class ConsecutiveFailuresPassivePolicy
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
            Message = "Instance {Destination} taken out of rotation after {Failures} consecutive failed request(s) (last: {Error}); active probes will bring it back")]
        public static partial void TakenOutOfRotation(ILogger logger, string destination, int failures, ForwarderError error);
    }
}
