namespace Gateway.Routing;

public enum RequestKind
{
    /// <summary>Safe to send to any site and to retry: GET, HEAD, OPTIONS, TRACE.</summary>
    Read,

    /// <summary>Changes state (POST, PUT, PATCH, DELETE and any method we do not know): affine to the active site, never retried.</summary>
    Write,
}

public static class RequestKinds
{
    public static RequestKind Of(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method)
            ? RequestKind.Read
            : RequestKind.Write;
}
