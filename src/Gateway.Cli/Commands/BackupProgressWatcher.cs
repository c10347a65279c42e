using System.Diagnostics;
using System.Text.Json;
using Gateway.Cli.Api;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Commands;

/// <summary>
/// Live progress of a backup, drill or restore while its POST is pending: polls GET /admin/backups and prints a line
/// when the step changes, and the engine's bytes, rate and ETA every <see cref="BytesEvery"/> while it copies.
/// </summary>
public sealed class BackupProgressWatcher(AdminApiClient api, TextWriter output)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan BytesEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private string? _step;
    private TimeSpan _lastBytesLine;

    /// <summary>Runs until <paramref name="stop"/> (the POST has answered); never throws.</summary>
    public async Task WatchAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, stop);
                var response = await api.GetAsync("/admin/backups", PollTimeout, stop);
                if (response.IsSuccess && response.IsJson && AdminJson.TryRead<BackupListDocument>(response.Body)?.Running is { } running && !stop.IsCancellationRequested)
                {
                    await ShowAsync(running);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or GatewayUnreachableException or GatewayTimeoutException or JsonException)
            {
                // A missed poll only delays a progress line; the POST's own answer is what counts.
            }
        }
    }

    private async Task ShowAsync(BackupProgressRow running)
    {
        var at = $"  [+{Format.Seconds(_elapsed.Elapsed.TotalSeconds)} s]";
        if (running.Step != _step)
        {
            _step = running.Step;
            _lastBytesLine = _elapsed.Elapsed;
            await output.WriteLineAsync($"{at} {running.Step}");
        }
        else if (running.BytesDone is not null && _elapsed.Elapsed - _lastBytesLine >= BytesEvery)
        {
            _lastBytesLine = _elapsed.Elapsed;
            await output.WriteLineAsync($"{at} {BackupRenderer.ProgressLine(running)}");
        }
    }
}
