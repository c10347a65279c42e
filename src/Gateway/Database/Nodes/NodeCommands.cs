using System.Diagnostics;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Database.Nodes;

public sealed record CommandResult(string Command, int ExitCode, string Output, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs a site's node command templates (stop, start, rewind, base backup) through /bin/sh with the placeholders
/// filled in and shell-quoted; output captured for the report, every run bounded in time.
/// </summary>
public sealed partial class NodeCommands(IOptions<GatewayOptions> options, ILogger<NodeCommands> logger)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);
    private readonly GatewayOptions _options = options.Value;

    public Task<CommandResult> StopAsync(string siteId, CancellationToken cancellation) => RunAsync(siteId, siteId, c => c.Stop, cancellation);

    public Task<CommandResult> StartAsync(string siteId, CancellationToken cancellation) => RunAsync(siteId, siteId, c => c.Start, cancellation);

    public Task<CommandResult> RewindAsync(string siteId, string sourceSiteId, CancellationToken cancellation) => RunAsync(siteId, sourceSiteId, c => c.Rewind, cancellation);

    public Task<CommandResult> BaseBackupAsync(string siteId, string sourceSiteId, CancellationToken cancellation) => RunAsync(siteId, sourceSiteId, c => c.BaseBackup, cancellation);

    private async Task<CommandResult> RunAsync(string siteId, string sourceSiteId, Func<NodeCommandOptions, string> template, CancellationToken cancellation)
    {
        var site = _options.Sites.Single(s => s.Id == siteId);
        var source = _options.Sites.Single(s => s.Id == sourceSiteId);
        var command = Fill(template(site.Database.Commands), new Dictionary<string, string>
        {
            ["dataDir"] = site.Database.DataDirectory,
            ["host"] = site.Database.Host,
            ["port"] = site.Database.Port.ToString(),
            ["sourceHost"] = source.Database.Host,
            ["sourcePort"] = source.Database.Port.ToString(),
            ["user"] = _options.Database.Username,
            ["pgBin"] = _options.Database.BinDirectory,
        });

        var clock = Stopwatch.StartNew();
        var startInfo = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(command + " 2>&1");
        // Tools like pg_basebackup and pg_rewind find the gateway's password through PGPASSWORD, never the command line.
        if (Environment.GetEnvironmentVariable(NodeConnections.PasswordVariable) is { Length: > 0 } password)
        {
            startInfo.Environment["PGPASSWORD"] = password;
        }
        else if (_options.Database.PasswordFile is { Length: > 0 } file)
        {
            startInfo.Environment["PGPASSWORD"] = File.ReadAllText(file).Trim();
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start /bin/sh");
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var result = new CommandResult(command, process.ExitCode, (await output).Trim(), clock.Elapsed);
        Log.Ran(logger, siteId, result.Command, result.ExitCode, (long)result.Duration.TotalMilliseconds);
        return result;
    }

    /// <summary>Fills {name} placeholders with single-quoted values, so paths with spaces or quotes stay one word.</summary>
    public static string Fill(string template, IReadOnlyDictionary<string, string> values)
    {
        var filled = template;
        foreach (var (name, value) in values)
        {
            filled = filled.Replace("{" + name + "}", Quote(value));
        }

        return filled;
    }

    private static string Quote(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':') && value.Length > 0
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Node command for site {Site}: `{Command}` exited {ExitCode} after {Milliseconds} ms")]
        public static partial void Ran(ILogger logger, string site, string command, int exitCode, long milliseconds);
    }
}
