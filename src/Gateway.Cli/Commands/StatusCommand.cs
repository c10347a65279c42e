using System.CommandLine;
using System.Text.Json;
using Gateway.Cli.Api;
using Gateway.Cli.Connection;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Commands;

/// <summary><c>gatewayctl status</c>: GET /admin/status as tables.</summary>
public static class StatusCommand
{
    public static Command Create(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("status", "Show epoch, active site, instances, database nodes and endpoints, alarms, and any further section (filestore, running operation)");
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var response = await api.GetAsync("/admin/status", cancellation);
            if (invocation.Json)
            {
                invocation.WriteRawJson(response);
            }

            if (!response.IsSuccess)
            {
                return invocation.Refused(response, "status", api.BaseUrl);
            }

            if (invocation.Json)
            {
                return ExitCodes.Success;
            }

            if (!response.IsJson)
            {
                return invocation.Fail(new(ExitCodes.Failed, $"the status is not JSON ({response.MediaType ?? "no content type"}): is {api.BaseUrl} the gateway's admin listener?"));
            }

            if (AdminJson.TryRead<StatusDocument>(response.Body) is { } status)
            {
                StatusRenderer.Write(invocation.Output, status);
            }
            else
            {
                // A status of a shape this CLI does not know is still worth reading.
                invocation.Error.WriteLine("gatewayctl: the status has a shape this gatewayctl does not know; showing it as it is");
                using var document = JsonDocument.Parse(response.Body);
                JsonOutline.Write(invocation.Output, document.RootElement, indent: "");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
