using System.CommandLine;
using System.Net;
using System.Text.Json;
using Gateway.Cli.Api;
using Gateway.Cli.Connection;

namespace Gateway.Cli.Commands;

/// <summary>
/// One run of a command against the gateway: resolves the connection, owns the client, and turns every way a call
/// can go wrong into one stderr line and the documented exit code.
/// </summary>
public sealed class Invocation(ParseResult parse, GlobalOptions globals, CliEnvironment environment)
{
    public TextWriter Output => parse.InvocationConfiguration.Output;
    public TextWriter Error => parse.InvocationConfiguration.Error;
    public bool Json => parse.GetValue(globals.Json);

    /// <summary>The value of a required option or one with a default (the parser has made sure it is there).</summary>
    public T Value<T>(Option<T> option) => parse.GetValue(option) ?? throw new InvalidOperationException($"{option.Name} has no value");

    /// <summary>The value of a required argument (the parser has made sure it is there).</summary>
    public T Value<T>(Argument<T> argument) => parse.GetValue(argument) ?? throw new InvalidOperationException($"{argument.Name} has no value");

    public string? ValueOrNull(Option<string?> option) => parse.GetValue(option);

    /// <summary>An optional number or flag: null when not given.</summary>
    public T? Optional<T>(Option<T?> option)
        where T : struct => parse.GetValue(option);

    public async Task<int> RunAsync(Func<AdminApiClient, Task<int>> command, CancellationToken cancellation)
    {
        var (connection, problem) = ConnectionSettings.Resolve(parse.GetValue(globals.Url), parse.GetValue(globals.TokenFile), environment);
        if (connection is null)
        {
            return Fail(problem!);
        }

        using var api = new AdminApiClient(connection, parse.GetValue(globals.Timeout));
        try
        {
            return await command(api);
        }
        catch (GatewayUnreachableException e)
        {
            return Fail(new CliError(ExitCodes.Unreachable, e.Message));
        }
        catch (GatewayTimeoutException e) when (e.WasOperation)
        {
            // The gateway finishes an operation even when its caller stops waiting, so the outcome is not known here.
            return Fail(new CliError(ExitCodes.Failed, $"{e.Message}; the operation goes on in the gateway: 'gatewayctl status' and 'gatewayctl history' show how it ends"));
        }
        catch (GatewayTimeoutException e)
        {
            return Fail(new CliError(ExitCodes.Unreachable, $"{e.Message} from the gateway at {api.BaseUrl}"));
        }
        catch (JsonException e)
        {
            return Fail(new CliError(ExitCodes.Failed, $"the gateway's answer is not the JSON it should be: {e.Message}"));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Fail(new CliError(ExitCodes.Interrupted, "interrupted; an operation already sent goes on in the gateway ('gatewayctl status' shows it)"));
        }
    }

    public int Fail(CliError error)
    {
        Error.WriteLine($"gatewayctl: {error.Message}");
        return error.ExitCode;
    }

    /// <summary>--json: the body exactly as the gateway sent it, whatever the status, so a script can read refusals too.</summary>
    public void WriteRawJson(ApiResponse response)
    {
        if (response.IsJson)
        {
            Output.WriteLine(response.Body.TrimEnd());
        }
    }

    /// <summary>The exit code and stderr line for an answer that is not a success; <paramref name="what"/> names the request.</summary>
    public int Refused(ApiResponse response, string what, Uri baseUrl)
    {
        if (response.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return Fail(new CliError(ExitCodes.Unreachable, $"wrong or missing admin token ({response.StatusText} from {baseUrl})"));
        }

        if (response.ErrorText is { } explanation)
        {
            return Fail(new CliError(ExitCodes.Failed, $"{what} refused ({response.StatusText}): {explanation}"));
        }

        if (response.Status == HttpStatusCode.NotFound || response.Status == HttpStatusCode.MethodNotAllowed)
        {
            return Fail(new CliError(ExitCodes.Failed,
                $"the gateway at {baseUrl} has no {response.Method} {response.Path} ({response.StatusText}): it may be older than this gatewayctl"));
        }

        var body = response.Body.Trim() is { Length: > 0 } text ? ": " + (text.Length > 300 ? text[..300] + "..." : text) : "";
        return Fail(new CliError(ExitCodes.Failed, $"{what} failed ({response.StatusText}){body}"));
    }
}

/// <summary>Binds a command to a body that talks to the gateway, through one <see cref="Invocation"/> per run.</summary>
public static class AdminAction
{
    public static void Set(Command command, GlobalOptions globals, CliEnvironment environment, Func<Invocation, AdminApiClient, CancellationToken, Task<int>> body) =>
        command.SetAction((parse, cancellation) =>
        {
            var invocation = new Invocation(parse, globals, environment);
            return invocation.RunAsync(api => body(invocation, api, cancellation), cancellation);
        });
}
