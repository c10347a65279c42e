namespace Gateway.Routing;

/// <summary>Which answers of an instance a read may be sent elsewhere after, instead of passing them to the client.</summary>
public static class RetryableAnswers
{
    /// <summary>
    /// 502, 503 and 504: the instance, or something behind it, says it cannot serve now, not that the request is
    /// wrong. 500 is not among them: it is as likely the request's own fault, which another instance would repeat.
    /// </summary>
    public static bool IsRetryableStatus(int status) => status is 502 or 503 or 504;

    /// <summary>
    /// Whether the first answer of a read (never asked for a write or a retry) is held back so that the read can be
    /// sent to another instance: only for a retryable status, only when the request has no body (the instance has
    /// consumed it, and it could not be sent again), and only when another instance is there to take it; otherwise
    /// the answer goes to the client as it is.
    /// </summary>
    public static bool HoldBack(int status, bool requestHasBody, bool otherInstanceLeft) =>
        IsRetryableStatus(status) && !requestHasBody && otherInstanceLeft;
}
