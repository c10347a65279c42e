using System.CommandLine;
using System.CommandLine.Help;

namespace Gateway.Cli.Commands;

/// <summary>
/// The action of a command that only groups others (gatewayctl, gatewayctl db): name the choices and exit 2. As an
/// action rather than the parser's "required command" error, it stays out of the way of "unrecognized command" errors.
/// </summary>
public static class CommandGroup
{
    public static int RequireSubcommand(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var choices = string.Join(", ", command.Subcommands.Select(c => c.Name));
        parse.InvocationConfiguration.Error.WriteLine($"gatewayctl: name a command: {choices}");
        new HelpAction().Invoke(parse);
        return ExitCodes.Usage;
    }
}
