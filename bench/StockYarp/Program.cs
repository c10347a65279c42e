using Yarp.ReverseProxy.Configuration;

// Stock YARP 2.3 as a user would start it: the default web builder, one catch-all route, one cluster with the two
// backends, the default load-balancing policy (PowerOfTwoChoices), no health checks, no transforms beyond YARP's
// defaults, logging at Warning.
//
//   StockYarp <listen-port> <backend-url-1> <backend-url-2>
if (args.Length != 3 || !int.TryParse(args[0], out var port))
{
    Console.Error.WriteLine("usage: StockYarp <listen-port> <backend-url-1> <backend-url-2>");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port));

RouteConfig[] routes =
[
    new() { RouteId = "all", ClusterId = "backends", Match = new RouteMatch { Path = "{**catch-all}" } },
];
ClusterConfig[] clusters =
[
    new()
    {
        ClusterId = "backends",
        Destinations = new Dictionary<string, DestinationConfig>
        {
            ["b1"] = new() { Address = args[1] },
            ["b2"] = new() { Address = args[2] },
        },
    },
];
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
return 0;
