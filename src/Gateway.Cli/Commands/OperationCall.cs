using Gateway.Cli.Api;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Commands;

/// <summary>
/// A state-changing POST that answers with a report: optionally shows live progress while it runs, then prints
/// the report (or, with --json, the raw answer) and maps the verdict to the exit code.
/// </summary>
public static class OperationCall
{
    public static async Task<int> RunAsync(
        Invocation invocation, AdminApiClient api, string title, string path, object body, bool showProgress, CancellationToken cancellation)
    {
        var response = showProgress && !invocation.Json
            ? await PostWatchingProgressAsync(invocation, api, path, body, cancellation)
            : await api.PostAsync(path, body, cancellation);

        if (invocation.Json)
        {
            invocation.WriteRawJson(response);
        }

        // A refusal with a report (409 with succeeded=false) says more than its status: show the report either way.
        var report = response.IsJson && response.ErrorText is null && AdminJson.TryRead<OperationReport>(response.Body) is { IsReport: true } read ? read : null;
        if (report is not null && !invocation.Json)
        {
            ReportRenderer.Write(invocation.Output, title, report);
        }

        if (response.IsSuccess && report?.Succeeded != false)
        {
            if (report is null && !invocation.Json)
            {
                invocation.Output.WriteLine($"{title}: done");
            }

            return ExitCodes.Success;
        }

        return report is { Succeeded: false }
            ? invocation.Fail(new(ExitCodes.Failed, $"{title} failed: {Format.Text(report.Summary)}"))
            : invocation.Refused(response, title, api.BaseUrl);
    }

    private static Task<ApiResponse> PostWatchingProgressAsync(Invocation invocation, AdminApiClient api, string path, object body, CancellationToken cancellation) =>
        PostWhileWatchingAsync(api, path, body, new OperationProgress(api, invocation.Output).WatchAsync, cancellation);

    /// <summary>A POST with a progress watcher running until it answers; the watcher is stopped and waited for first.</summary>
    public static async Task<ApiResponse> PostWhileWatchingAsync(AdminApiClient api, string path, object body, Func<CancellationToken, Task> watch, CancellationToken cancellation)
    {
        var post = api.PostAsync(path, body, cancellation);
        using var stopWatching = new CancellationTokenSource();
        var watcher = watch(stopWatching.Token);
        try
        {
            return await post;
        }
        finally
        {
            // Stop and wait, so no progress line lands in the middle of the report.
            await stopWatching.CancelAsync();
            await watcher;
        }
    }
}
