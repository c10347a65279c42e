using System.CommandLine;
using System.CommandLine.Help;
using Gateway.Cli.Commands;
using Gateway.Cli.Connection;

namespace Gateway.Cli;

/// <summary>
/// gatewayctl's entry point, callable in-process with its own writers and environment (which is how the tests run it).
/// The command tree:
/// <code>
/// gatewayctl status
///            switchover --to SITE
///            failover --to SITE [--force]
///            failback
///            pause --reason TEXT --for hh:mm:ss
///            resume
///            release-deletes
///            drain   (--site SITE | --instance ID)
///            undrain (--site SITE | --instance ID)
///            history
///            db promote --to SITE [--force]
///               rejoin --site SITE [--method auto|rewind|basebackup]
///               history
///               rejoins
///            backup create
///                   list
///                   show ID
///                   verify ID
///                   restore ID (--to DIR [--target-action promote|pause] | --site SITE)
///                   prune [--keep-last N] [--keep-daily N] [--keep-weekly N] [--dry-run]
/// every command: [--url URL] [--token-file FILE] [--json] [--timeout DURATION]
/// </code>
/// </summary>
public static class Gatewayctl
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CliEnvironment environment, CancellationToken cancellation = default)
    {
        var root = BuildCommandTree(environment);
        var parse = root.Parse(args);
        // Usage errors get their own exit code (2) rather than the library's 1, which here means "the gateway refused".
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var problem in parse.Errors)
            {
                await error.WriteLineAsync($"gatewayctl: {problem.Message}");
            }

            await error.WriteLineAsync($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Ctrl+C arrives through the caller's token (Program wires it), so in-process runs never hook the process's signals.
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(invocation, cancellation);
    }

    public static RootCommand BuildCommandTree(CliEnvironment environment)
    {
        var globals = new GlobalOptions(environment);
        var root = new RootCommand("gatewayctl: operate the dual-datacenter gateway through its admin API.\n"
            + "Exit codes: 0 success, 1 refused or failed, 2 usage error, 3 gateway unreachable or admin token refused.")
        {
            StatusCommand.Create(globals, environment),
            SiteCommands.Switchover(globals, environment),
            SiteCommands.Failover(globals, environment),
            SiteCommands.Failback(globals, environment),
            SiteCommands.Pause(globals, environment),
            SiteCommands.Resume(globals, environment),
            SiteCommands.ReleaseDeletes(globals, environment),
            SiteCommands.Drain(globals, environment),
            SiteCommands.Undrain(globals, environment),
            HistoryCommand.Create("history", "Reports of past switchovers, failovers and failbacks", "/admin/history", "operation", globals, environment),
            DatabaseCommands.Create(globals, environment),
            BackupCommands.Create(globals, environment),
        };
        root.SetAction(CommandGroup.RequireSubcommand);
        foreach (var option in globals.All)
        {
            root.Options.Add(option);
        }

        return root;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "gatewayctl" : result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
