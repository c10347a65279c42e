using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Model;

namespace Gateway.Backup;

/// <summary>
/// The backup records, one file each under StateDirectory/backups, each replaced whole with fsync + rename: after a
/// crash a record is its last saved state, never torn. Kept in memory too; the files are the truth at start.
/// </summary>
public sealed class BackupCatalog
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly string _directory;
    private readonly Dictionary<string, BackupRecord> _records = new(StringComparer.Ordinal);

    public BackupCatalog(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.EnumerateFiles(directory, "*.json"))
        {
            var record = Read(file);
            _records[record.Id] = record;
        }
    }

    /// <summary>Every record, oldest first.</summary>
    public IReadOnlyList<BackupRecord> All
    {
        get
        {
            lock (_records)
            {
                return _records.Values.OrderBy(r => r.StartedAt).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
            }
        }
    }

    public BackupRecord? Find(string id)
    {
        lock (_records)
        {
            return _records.GetValueOrDefault(id);
        }
    }

    /// <summary>Persists the record (durably) before it becomes visible: what the API lists is what a restart finds.</summary>
    public BackupRecord Save(BackupRecord record)
    {
        lock (_records)
        {
            DurableFile.Replace(PathOf(record.Id), stream => JsonSerializer.Serialize(stream, record, Json));
            _records[record.Id] = record;
            return record;
        }
    }

    /// <summary>Forgets a backup whose data the engines no longer hold.</summary>
    public void Remove(string id)
    {
        lock (_records)
        {
            File.Delete(PathOf(id));
            _records.Remove(id);
        }
    }

    /// <summary>A new id from the time (sortable, readable), unique among the records.</summary>
    public string NewId(DateTimeOffset now)
    {
        lock (_records)
        {
            var id = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            for (var n = 2; _records.ContainsKey(id) || File.Exists(PathOf(id)); n++)
            {
                id = $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{n}";
            }

            return id;
        }
    }

    private string PathOf(string id) => Path.Combine(_directory, id + ".json");

    private static BackupRecord Read(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<BackupRecord>(File.ReadAllText(file), Json) ?? throw new InvalidDataException("the file is empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"backup record '{file}' is unreadable ({e.Message}); move it away after checking the repositories", e);
        }
    }
}
