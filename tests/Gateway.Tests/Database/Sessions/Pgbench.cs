using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.Tests.Database.Sessions;

/// <summary>What a pgbench run printed and logged: exit code, summary, per-second progress, every transaction's completion time.</summary>
public sealed partial record PgbenchResult(int ExitCode, string Output, string Errors, IReadOnlyList<(int Client, DateTimeOffset At)> CompletionsByClient)
{
    public IReadOnlyList<DateTimeOffset> Completions { get; } = CompletionsByClient.Select(c => c.At).Order().ToList();

    public long Processed => long.Parse(ProcessedPattern().Match(Output).Groups[1].Value, CultureInfo.InvariantCulture);

    public long Failed => FailedPattern().Match(Output) is { Success: true } match ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>Clients that aborted ("client 3 aborted in command ..."); pgbench then exits with status 2.</summary>
    public int AbortedClients => AbortedPattern().Matches(Errors).Count;

    public double Tps => double.Parse(TpsPattern().Match(Output).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>The per-second progress lines (-P 1): seconds since the start, and the transactions per second in the second before.</summary>
    public IReadOnlyList<(double At, double Tps)> Progress =>
        ProgressPattern().Matches(Errors).Select(m => (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();

    /// <summary>The clients (pgbench's client ids) that completed a transaction after <paramref name="instant"/>.</summary>
    public IReadOnlySet<int> ClientsCompletingAfter(DateTimeOffset instant) => CompletionsByClient.Where(c => c.At > instant).Select(c => c.Client).ToHashSet();

    /// <summary>The longest time no transaction completed, among the completions between <paramref name="from"/> and <paramref name="to"/>: the write pause as clients saw it.</summary>
    public TimeSpan LongestGap(DateTimeOffset from, DateTimeOffset to)
    {
        var window = Completions.Where(c => c >= from && c <= to).ToList();
        return window.Count < 2 ? to - from : window.Zip(window.Skip(1), (a, b) => b - a).Max();
    }

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex ProcessedPattern();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedPattern();

    [GeneratedRegex(@"client \d+ (script \d+ )?aborted")]
    private static partial Regex AbortedPattern();

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex TpsPattern();

    [GeneratedRegex(@"progress: ([0-9.]+) s, ([0-9.]+) tps")]
    private static partial Regex ProgressPattern();
}

/// <summary>
/// Runs PostgreSQL's pgbench and keeps what it says whatever its exit code (a client that aborts makes it exit 2,
/// which a test of moving sessions wants to read, not to throw on), with its per-transaction log when asked.
/// </summary>
public static class Pgbench
{
    public static async Task<PgbenchResult> RunAsync(int port, TimeSpan timeout, bool logTransactions, params string[] arguments)
    {
        var logDirectory = Directory.CreateTempSubdirectory("pgbench-log-").FullName;
        var startInfo = new ProcessStartInfo(Path.Combine(PostgresTools.BinDirectory, "pgbench"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] log = logTransactions ? ["-l", $"--log-prefix={Path.Combine(logDirectory, "tx")}"] : [];
        foreach (var argument in (string[])["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", .. log, .. arguments, "postgres"])
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(startInfo)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var bound = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"pgbench {string.Join(' ', arguments)} ran longer than {timeout}: {await errors}");
            }

            return new PgbenchResult(process.ExitCode, await output, await errors, Completions(logDirectory));
        }
        finally
        {
            Directory.Delete(logDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Completion times from the transaction logs (one per thread): "client transaction latency script epoch microseconds ...",
    /// where the epoch and microseconds give when the transaction ended.
    /// </summary>
    private static List<(int Client, DateTimeOffset At)> Completions(string logDirectory)
    {
        var completions = new List<(int, DateTimeOffset)>();
        foreach (var file in Directory.EnumerateFiles(logDirectory))
        {
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split(' ');
                // A failed or skipped transaction has a word instead of its latency: it completed nothing.
                if (fields.Length >= 6 && int.TryParse(fields[0], out var client) && long.TryParse(fields[2], out _)
                    && long.TryParse(fields[4], out var seconds) && long.TryParse(fields[5], out var micros))
                {
                    completions.Add((client, DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10)));
                }
            }
        }

        return completions;
    }
}
