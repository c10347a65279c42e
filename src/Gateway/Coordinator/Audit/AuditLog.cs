using System.Text.Json;
using Gateway.Model;
using Gateway.Observability;

namespace Gateway.Coordinator.Audit;

/// <summary>
/// audit.jsonl under the state directory: one JSON object per line, each appended and fsynced before the call it
/// records is answered, so nothing acknowledged is lost on a crash. An append that fails is logged (with the entry,
/// so the record survives in the process log) and counted, and the entry is kept in memory: while any entry is
/// unwritten the log is broken, <see cref="EnsureWritable"/> retries them, and state-changing calls are refused
/// until it succeeds (an operator action nobody can later account for is worse than one refused now). In cluster mode
/// each entry also goes to the <see cref="ISharedRecords"/> (etcd) and entries are read from there, so every gateway
/// lists the calls any gateway took; the local file stays this gateway's own record, and the answer when the shared
/// records cannot be read. An entry etcd does not take is logged and counted by the store, not refused: the local
/// file holds it.
/// </summary>
public sealed partial class AuditLog
{
    public const string FileName = "audit.jsonl";

    /// <summary>How much of a request body an entry keeps: admin bodies are a few dozen bytes; anything longer is cut.</summary>
    public const int MaxBodyBytes = 2048;

    /// <summary>Entries kept in memory while the file cannot be written; past that the oldest are dropped (and counted).</summary>
    private const int MaxPending = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();
    private readonly List<byte[]> _pending = [];
    private readonly AdminApiMetrics _metrics;
    private readonly ILogger<AuditLog> _logger;
    private readonly ISharedRecords? _shared;

    /// <summary>The shared records' log of audit entries.</summary>
    public const string SharedLog = "audit";

    public AuditLog(string stateDirectory, AdminApiMetrics metrics, ILogger<AuditLog> logger, ISharedRecords? shared = null)
    {
        _shared = shared;
        Path = System.IO.Path.Combine(stateDirectory, FileName);
        _metrics = metrics;
        _logger = logger;
        try
        {
            EndTornLine();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The gateway still starts and routes; the first audited call finds the log broken and says so.
            Log.AppendFailed(_logger, Path, e.Message, "(newline after a torn last line)");
        }
    }

    public string Path { get; }

    /// <summary>Appends the entry durably; false (logged, counted, kept for a retry) when the file cannot be written.</summary>
    public bool Append(AuditEntry entry)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, Json);
        // Before the local file, outside its lock: etcd may take its request timeout to answer.
        _shared?.Append(SharedLog, System.Text.Encoding.UTF8.GetString(line));
        lock (_gate)
        {
            _pending.Add([.. line, (byte)'\n']);
            if (TryWritePending(out var error))
            {
                return true;
            }

            Log.AppendFailed(_logger, Path, error, System.Text.Encoding.UTF8.GetString(line));
            _metrics.AuditAppendFailed();
            if (_pending.Count > MaxPending)
            {
                _pending.RemoveAt(0);
                Log.EntryDropped(_logger, MaxPending);
            }

            return false;
        }
    }

    /// <summary>True when every entry so far is on disk, writing any left over from a failed append first.</summary>
    public bool EnsureWritable(out string? error)
    {
        lock (_gate)
        {
            if (_pending.Count == 0 || TryWritePending(out error))
            {
                error = null;
                return true;
            }

            Log.StillBroken(_logger, Path, error);
            return false;
        }
    }

    /// <summary>The last <paramref name="count"/> entries, oldest first. A line that does not parse (torn by a crash) is skipped.</summary>
    public IReadOnlyList<AuditEntry> ReadLast(int count)
    {
        if (_shared?.ReadNewest(SharedLog, count) is { } shared)
        {
            return [.. shared.Select(Parse).OfType<AuditEntry>()];
        }

        var last = new Queue<AuditEntry>(count);
        lock (_gate)
        {
            if (!File.Exists(Path))
            {
                return [];
            }

            // Streams the file once: the audit log grows by admin calls, not by traffic, so it stays small enough.
            foreach (var line in File.ReadLines(Path))
            {
                if (Parse(line) is not { } entry)
                {
                    continue;
                }

                if (last.Count == count)
                {
                    last.Dequeue();
                }

                last.Enqueue(entry);
            }
        }

        return [.. last];
    }

    private static AuditEntry? Parse(string line)
    {
        try
        {
            return line.Length == 0 ? null : JsonSerializer.Deserialize<AuditEntry>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private bool TryWritePending(out string error)
    {
        try
        {
            DurableFile.Append(Path, _pending.SelectMany(line => line).ToArray());
            _pending.Clear();
            error = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>A crash in the middle of an append leaves a line without its newline; the next entry must not be glued to it.</summary>
    private void EndTornLine()
    {
        if (!File.Exists(Path) || new FileInfo(Path).Length == 0)
        {
            return;
        }

        using (var file = File.OpenRead(Path))
        {
            file.Seek(-1, SeekOrigin.End);
            if (file.ReadByte() == '\n')
            {
                return;
            }
        }

        DurableFile.Append(Path, "\n"u8);
    }
}
