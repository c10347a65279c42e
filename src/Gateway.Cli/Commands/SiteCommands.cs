using System.CommandLine;
using Gateway.Cli.Api;
using Gateway.Cli.Connection;

namespace Gateway.Cli.Commands;

/// <summary>Moving the whole service between sites (database, files, traffic) and taking sites or instances out of routing.</summary>
public static class SiteCommands
{
    public static Command Switchover(GlobalOptions globals, CliEnvironment environment)
    {
        var to = TargetSite("The site to make active (e.g. B)");
        var command = new Command("switchover", "Planned move of the active site, with zero lag and no failed request") { to };
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
        {
            var site = invocation.Value(to);
            return OperationCall.RunAsync(invocation, api, $"switchover to {site}", "/admin/switchover", new SiteTarget(site), showProgress: true, cancellation);
        });
        return command;
    }

    public static Command Failover(GlobalOptions globals, CliEnvironment environment)
    {
        var to = TargetSite("The site to make active (e.g. B)");
        var force = Force("Go ahead even when the target is unhealthy or its lag exceeds the RPO bound (data may be lost; the report says how much)");
        var command = new Command("failover", "Unplanned move of the active site: fence the old one, promote, flip the filestore, route") { to, force };
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
        {
            var (site, forced) = (invocation.Value(to), invocation.Value(force));
            return OperationCall.RunAsync(invocation, api, $"failover to {site}{(forced ? " (forced)" : "")}", "/admin/failover",
                new ForcibleSiteTarget(site, forced), showProgress: true, cancellation);
        });
        return command;
    }

    public static Command Failback(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("failback",
            "Prepare the site that is not active to take the service back: rebuild its database as a standby of the active site "
            + "and copy the filestore back until it has caught up. It does not move the service: 'switchover --to SITE' does, after");
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
            OperationCall.RunAsync(invocation, api, "failback", "/admin/failback", new NoArguments(), showProgress: true, cancellation));
        return command;
    }

    public static Command Pause(GlobalOptions globals, CliEnvironment environment)
    {
        var reason = new Option<string>("--reason") { Description = "Why (shown in the status and the alarm)", Required = true, HelpName = "text" };
        var duration = new Option<string>("--for") { Description = "For how long, hh:mm:ss (it stays paused past that, with an alarm, until resumed)", Required = true, HelpName = "duration" };
        var command = new Command("pause", "Stop automatic failover and promotion (manual switches still work); survives a gateway restart") { reason, duration };
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
            OperationCall.RunAsync(invocation, api, "pause", "/admin/pause", new PauseBody(invocation.Value(reason), invocation.Value(duration)), showProgress: false, cancellation));
        return command;
    }

    public static Command Resume(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("resume", "Let the gateway fail over by itself again");
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
            OperationCall.RunAsync(invocation, api, "resume", "/admin/resume", new NoArguments(), showProgress: false, cancellation));
        return command;
    }

    public static Command ReleaseDeletes(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("release-deletes",
            "Let the filestore replicator carry out the deletes its mass-delete breaker holds (check the source SAN first: status lists them)");
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
            OperationCall.RunAsync(invocation, api, "release-deletes", "/admin/filestore/release-deletes", new NoArguments(), showProgress: false, cancellation));
        return command;
    }

    public static Command Drain(GlobalOptions globals, CliEnvironment environment) =>
        DrainCommand("drain", "Stop routing new requests to a site or an instance (in-flight ones finish)", "/admin/drain", globals, environment);

    public static Command Undrain(GlobalOptions globals, CliEnvironment environment) =>
        DrainCommand("undrain", "Route to a drained site or instance again", "/admin/undrain", globals, environment);

    private static Command DrainCommand(string name, string description, string path, GlobalOptions globals, CliEnvironment environment)
    {
        var site = new Option<string?>("--site") { Description = "A whole site (e.g. A)", HelpName = "site" };
        var instance = new Option<string?>("--instance") { Description = "One instance (e.g. a1)", HelpName = "id" };
        var command = new Command(name, description) { site, instance };
        command.Validators.Add(result =>
        {
            var given = new[] { site, instance }.Count(option => result.GetResult(option) is { Implicit: false });
            if (given != 1)
            {
                result.AddError($"{name}: give exactly one of --site or --instance");
            }
        });
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
        {
            var target = new DrainTarget(invocation.ValueOrNull(site), invocation.ValueOrNull(instance));
            var what = target.Site is not null ? $"site {target.Site}" : $"instance {target.Instance}";
            return OperationCall.RunAsync(invocation, api, $"{name} {what}", path, target, showProgress: false, cancellation);
        });
        return command;
    }

    public static Option<string> TargetSite(string description) => new("--to") { Description = description, Required = true, HelpName = "site" };

    public static Option<bool> Force(string description) => new("--force") { Description = description };
}
