using System.Text.Json;
using Gateway.Model;

namespace Gateway.Operations;

/// <summary>The kinds of report the history keeps, as they are named in history.jsonl.</summary>
public static class HistoryKinds
{
    public const string SiteSwitch = "site-switch";
    public const string Promotion = "promotion";
    public const string Rejoin = "rejoin";
}

/// <summary>
/// history.jsonl under the state directory: every operation's report, one JSON line each, appended and fsynced when
/// the operation ends, so a restart forgets no failover. Read back by kind, oldest first. A line torn by a crash is
/// skipped; an append that fails is logged with the report (which the caller also returns) and the report is still
/// listed until the process ends. In cluster mode each report also goes to the <see cref="ISharedRecords"/> (etcd), and
/// reports are read from there: every gateway, and a new leader, lists what any gateway did. The local file stays
/// this gateway's own record, and the answer when the shared records cannot be read.
/// </summary>
public sealed partial class OperationHistory
{
    public const string FileName = "history.jsonl";

    /// <summary>Reports kept per kind, the newest; older ones stay in the file.</summary>
    public const int Kept = 1000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<JsonElement>> _byKind = new(StringComparer.Ordinal);
    private readonly ILogger<OperationHistory> _logger;
    private readonly ISharedRecords? _shared;

    public OperationHistory(string stateDirectory, ILogger<OperationHistory> logger, ISharedRecords? shared = null)
    {
        _logger = logger;
        _shared = shared;
        Path = System.IO.Path.Combine(stateDirectory, FileName);
        Directory.CreateDirectory(stateDirectory);
        if (File.Exists(Path))
        {
            foreach (var line in File.ReadLines(Path))
            {
                if (Parse(line) is { } entry)
                {
                    Keep(entry.Kind, entry.Report);
                }
            }

            EndTornLine();
        }
    }

    /// <summary>A crash in the middle of an append leaves a line without its newline; the next report must not be glued to it.</summary>
    private void EndTornLine()
    {
        using (var file = File.OpenRead(Path))
        {
            if (file.Length == 0)
            {
                return;
            }

            file.Seek(-1, SeekOrigin.End);
            if (file.ReadByte() == '\n')
            {
                return;
            }
        }

        DurableFile.Append(Path, "\n"u8);
    }

    public string Path { get; }

    public void Record<T>(string kind, T report)
    {
        var element = JsonSerializer.SerializeToElement(report, JsonDocuments.Options);
        var line = JsonSerializer.SerializeToUtf8Bytes(new Entry(kind, element), JsonDocuments.Options);
        lock (_gate)
        {
            Keep(kind, element);
            try
            {
                DurableFile.Append(Path, [.. line, (byte)'\n']);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.AppendFailed(_logger, Path, e.Message, System.Text.Encoding.UTF8.GetString(line));
            }
        }

        // Outside the lock: etcd may take its request timeout to answer. A failure is logged and counted by the store.
        _shared?.Append(SharedLog(kind), element.GetRawText());
    }

    /// <summary>The shared records' log of one kind of report.</summary>
    public static string SharedLog(string kind) => $"history/{kind}";

    /// <summary>The reports of one kind, oldest first, at most <paramref name="limit"/> of the newest.</summary>
    public IReadOnlyList<T> Read<T>(string kind, int limit = Kept)
    {
        if (_shared?.ReadNewest(SharedLog(kind), limit) is { } shared)
        {
            return [.. shared.Select(report => JsonSerializer.Deserialize<T>(report, JsonDocuments.Options)!)];
        }

        lock (_gate)
        {
            return _byKind.TryGetValue(kind, out var reports)
                ? reports.Skip(Math.Max(0, reports.Count - limit)).Select(report => report.Deserialize<T>(JsonDocuments.Options)!).ToList()
                : [];
        }
    }

    private void Keep(string kind, JsonElement report)
    {
        if (!_byKind.TryGetValue(kind, out var reports))
        {
            _byKind[kind] = reports = [];
        }

        reports.Add(report);
        if (reports.Count > Kept)
        {
            reports.RemoveAt(0);
        }
    }

    private static Entry? Parse(string line)
    {
        try
        {
            return line.Length == 0 ? null : JsonSerializer.Deserialize<Entry>(line, JsonDocuments.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Entry(string Kind, JsonElement Report);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Operation history {Path} could not be appended to ({Error}); the report: {Report}")]
        public static partial void AppendFailed(ILogger logger, string path, string error, string report);
    }
}
