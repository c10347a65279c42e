using System.CommandLine;
using System.Text.Json;
using Gateway.Cli.Api;
using Gateway.Cli.Connection;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Commands;

/// <summary>A list of past reports, one line each: <c>gatewayctl history</c> and <c>gatewayctl db history</c>.</summary>
public static class HistoryCommand
{
    public static Command Create(string name, string description, string path, string defaultKind, GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command(name, description + " (--json for every step)");
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var response = await api.GetAsync(path, cancellation);
            if (invocation.Json)
            {
                invocation.WriteRawJson(response);
            }

            if (!response.IsSuccess)
            {
                return invocation.Refused(response, name, api.BaseUrl);
            }

            if (invocation.Json)
            {
                return ExitCodes.Success;
            }

            if (response.IsJson && AdminJson.TryRead<List<OperationReport>>(response.Body) is { } reports)
            {
                HistoryRenderer.Write(invocation.Output, reports, defaultKind);
            }
            else if (response.IsJson)
            {
                using var document = JsonDocument.Parse(response.Body);
                JsonOutline.Write(invocation.Output, document.RootElement, indent: "");
            }
            else
            {
                return invocation.Fail(new(ExitCodes.Failed, $"the history is not JSON ({response.MediaType ?? "no content type"})"));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
