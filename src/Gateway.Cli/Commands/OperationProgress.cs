using System.Diagnostics;
using System.Text.Json;
using Gateway.Cli.Api;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Commands;

/// <summary>
/// Live progress of a long operation while its POST is pending: polls the status and prints each step of
/// <c>currentOperation</c> once it has ended, e.g. "  [+0.14 s] fence A: routes closed". A gateway whose status has
/// no such section (or an operation that does not journal there) gets a "waiting..." line every few seconds instead,
/// so the operator always sees the command is alive.
/// </summary>
public sealed class OperationProgress(AdminApiClient api, TextWriter output)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan QuietNotice = TimeSpan.FromSeconds(5);

    // A poll that hangs must not delay the next one for long; the status is cheap when the gateway is well.
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private int _printedSteps;
    private string? _runningStep;

    /// <summary>Runs until <paramref name="stop"/> (the POST has answered); never throws.</summary>
    public async Task WatchAsync(CancellationToken stop)
    {
        var lastLineAt = TimeSpan.Zero;
        while (true)
        {
            try
            {
                await Task.Delay(PollInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (await TryPollOnceAsync(stop))
            {
                lastLineAt = _elapsed.Elapsed;
            }
            else if (_elapsed.Elapsed - lastLineAt >= QuietNotice && !stop.IsCancellationRequested)
            {
                var running = _runningStep is null ? "" : $" (running: {_runningStep})";
                await output.WriteLineAsync($"  waiting... {_elapsed.Elapsed.TotalSeconds:0} s{running}");
                lastLineAt = _elapsed.Elapsed;
            }
        }
    }

    private async Task<bool> TryPollOnceAsync(CancellationToken stop)
    {
        try
        {
            return await PollOnceAsync(stop);
        }
        catch (Exception e) when (e is GatewayUnreachableException or GatewayTimeoutException or JsonException or OperationCanceledException)
        {
            // A missed poll only delays a progress line; the POST's own answer is what counts.
            return false;
        }
    }

    /// <summary>Prints the steps that ended since the last poll; true when it printed any.</summary>
    private async Task<bool> PollOnceAsync(CancellationToken stop)
    {
        var response = await api.GetAsync("/admin/status", PollTimeout, stop);
        if (!response.IsSuccess || !response.IsJson)
        {
            return false;
        }

        using var document = JsonDocument.Parse(response.Body);
        if (!document.RootElement.TryGetProperty("currentOperation", out var section) || section.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var operation = section.Deserialize<CurrentOperation>(AdminJson.Options);
        return operation?.Steps is { } steps && await PrintNewStepsAsync(steps, operation.StartedAt);
    }

    private async Task<bool> PrintNewStepsAsync(List<StepRow> steps, DateTimeOffset? operationStart)
    {
        var origin = operationStart ?? steps.Select(s => s.StartedAt).FirstOrDefault(at => at is not null);
        var printedAny = false;
        // A step is printed once it has an outcome, or once a later step has begun (it ended, just without words).
        while (_printedSteps < steps.Count && (steps[_printedSteps].Outcome is { Length: > 0 } || _printedSteps < steps.Count - 1))
        {
            var step = steps[_printedSteps++];
            var at = ReportRenderer.Offset(step.StartedAt, origin) is var offset and not Format.Missing ? offset : $"+{_elapsed.Elapsed.TotalSeconds:0.00} s";
            await output.WriteLineAsync($"  [{at}] {step.Step}: {Format.Text(step.Outcome)}");
            printedAny = true;
        }

        _runningStep = _printedSteps < steps.Count ? steps[_printedSteps].Step : null;
        return printedAny;
    }
}
