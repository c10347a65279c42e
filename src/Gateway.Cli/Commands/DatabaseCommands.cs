using System.CommandLine;
using Gateway.Cli.Api;
using Gateway.Cli.Connection;

namespace Gateway.Cli.Commands;

/// <summary><c>gatewayctl db ...</c>: the database alone, without moving traffic or files.</summary>
public static class DatabaseCommands
{
    public static Command Create(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("db", "The database on its own: promote a standby, rejoin an old primary, promotion history")
        {
            Promote(globals, environment),
            Rejoin(globals, environment),
            HistoryCommand.Create("history", "Reports of past database promotions", "/admin/database/history", "promotion", globals, environment),
            HistoryCommand.Create("rejoins", "Reports of past rejoins (a node rebuilt as a standby)", "/admin/database/rejoins", "rejoin", globals, environment),
        };
        command.SetAction(CommandGroup.RequireSubcommand);
        return command;
    }

    private static Command Promote(GlobalOptions globals, CliEnvironment environment)
    {
        var to = SiteCommands.TargetSite("The site whose database becomes the primary (e.g. B)");
        var force = SiteCommands.Force("Promote even when the standby's lag exceeds the RPO bound or the old primary cannot be fenced");
        var command = new Command("promote", "Fence the primary, promote the other node, route the PG endpoints to it") { to, force };
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
        {
            var (site, forced) = (invocation.Value(to), invocation.Value(force));
            return OperationCall.RunAsync(invocation, api, $"promote database to {site}{(forced ? " (forced)" : "")}", "/admin/database/promote",
                new ForcibleSiteTarget(site, forced), showProgress: true, cancellation);
        });
        return command;
    }

    /// <summary>Case-insensitive, with an error that lists the choices in the spelling the help uses.</summary>
    public static RejoinMethod ParseMethod(string text, Action<string> reportError)
    {
        if (Enum.TryParse<RejoinMethod>(text, ignoreCase: true, out var method) && Enum.IsDefined(method) && !int.TryParse(text, out _))
        {
            return method;
        }

        reportError($"--method: '{text}' is not one of auto, rewind, basebackup");
        return RejoinMethod.Auto;
    }

    private static Command Rejoin(GlobalOptions globals, CliEnvironment environment)
    {
        var site = new Option<string>("--site") { Description = "The old primary to rebuild as a standby (e.g. A)", Required = true, HelpName = "site" };
        var method = new Option<RejoinMethod>("--method")
        {
            Description = "auto: pg_rewind, a fresh base backup if that fails; rewind or basebackup: only that",
            DefaultValueFactory = _ => RejoinMethod.Auto,
            CustomParser = result => ParseMethod(result.Tokens.Single().Value, result.AddError),
            HelpName = "auto|rewind|basebackup",
        };
        var command = new Command("rejoin", "Rebuild an old primary as a streaming standby of the current one") { site, method };
        AdminAction.Set(command, globals, environment, (invocation, api, cancellation) =>
        {
            var (target, how) = (invocation.Value(site), invocation.Value(method));
            return OperationCall.RunAsync(invocation, api, $"rejoin {target} as a standby ({how.ToString().ToLowerInvariant()})", "/admin/database/rejoin",
                new RejoinBody(target, how), showProgress: true, cancellation);
        });
        return command;
    }
}
