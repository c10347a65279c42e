namespace Gateway.Tests.Filestore;

/// <summary>
/// Random file system operations on a tree, reproducible from a seed: create, overwrite (often at the same size, which
/// size and time cannot tell apart), append, truncate, rename files and directories, delete both, nested directories,
/// empty files, writes through a temp name and a rename (as the broker writes), and on request one 50 MiB file.
/// Each operation is applied at once, while a replicator runs, and logged so a failure can be read back.
/// </summary>
public sealed class RandomTreeOperations(string root, int seed)
{
    public const int LargeFileBytes = 50 * 1024 * 1024;

    private readonly Random _random = new(seed);
    private readonly List<string> _log = [];
    private int _names;

    public IReadOnlyList<string> Log => _log;

    public void Run(int count, bool withLargeFile)
    {
        var largeAt = withLargeFile ? _random.Next(count) : -1;
        for (var i = 0; i < count; i++)
        {
            if (i == largeAt)
            {
                WriteLargeFile();
            }
            else
            {
                RunOne();
            }
        }
    }

    private void RunOne()
    {
        var files = Entries(directories: false);
        var directories = Entries(directories: true);
        switch (_random.Next(12))
        {
            case 0 or 1:
                Create(Path.Combine(RandomDirectory(directories), NewName()), RandomContent());
                break;
            case 2 when files.Count > 0:
                var overwritten = Pick(files);
                // Half the time at the same size: two versions that only their bytes tell apart.
                Create(overwritten, _random.Next(2) == 0 ? RandomContent(new FileInfo(Full(overwritten)).Length) : RandomContent());
                break;
            case 3 when files.Count > 0:
                var appended = Pick(files);
                File.AppendAllText(Full(appended), "appended " + _random.Next());
                _log.Add($"append {appended}");
                break;
            case 4 when files.Count > 0:
                var truncated = Pick(files);
                using (var stream = new FileStream(Full(truncated), FileMode.Open, FileAccess.Write))
                {
                    stream.SetLength(_random.Next((int)stream.Length + 1));
                }

                _log.Add($"truncate {truncated}");
                break;
            case 5 when files.Count > 0:
                var from = Pick(files);
                var others = files.Where(f => f != from).ToList();
                var to = _random.Next(3) == 0 && others.Count > 0 ? Pick(others) : Path.Combine(RandomDirectory(directories), NewName());
                File.Move(Full(from), Full(to), overwrite: true);
                _log.Add($"rename {from} -> {to}");
                break;
            case 6 when directories.Count > 0:
                var directory = Pick(directories);
                var destinations = directories.Where(d => d != directory && !d.StartsWith(directory + "/", StringComparison.Ordinal)).Append("").ToList();
                var movedTo = Path.Combine(Pick(destinations), NewName());
                Directory.Move(Full(directory), Full(movedTo));
                _log.Add($"rename directory {directory} -> {movedTo}");
                break;
            case 7 when files.Count > 0:
                var deleted = Pick(files);
                File.Delete(Full(deleted));
                _log.Add($"delete {deleted}");
                break;
            case 8 when directories.Count > 0 && _random.Next(3) == 0:
                var removed = Pick(directories);
                Directory.Delete(Full(removed), recursive: true);
                _log.Add($"delete directory {removed}");
                break;
            case 9:
                var nested = Path.Combine(RandomDirectory(directories), NewName(), NewName(), NewName());
                Directory.CreateDirectory(Full(nested));
                _log.Add($"mkdir -p {nested}");
                if (_random.Next(2) == 0)
                {
                    Create(Path.Combine(nested, NewName()), RandomContent());
                }

                break;
            case 10:
                var final = Path.Combine(RandomDirectory(directories), NewName());
                var temp = Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.tmp");
                File.WriteAllBytes(Full(temp), RandomContent());
                File.Move(Full(temp), Full(final));
                _log.Add($"write {final} through {temp}");
                break;
            default:
                Create(Path.Combine(RandomDirectory(directories), NewName()), []);
                break;
        }
    }

    private void WriteLargeFile()
    {
        var path = Path.Combine(RandomDirectory(Entries(directories: true)), NewName());
        var chunk = new byte[1024 * 1024];
        using (var stream = new FileStream(Full(path), FileMode.Create, FileAccess.Write))
        {
            for (var written = 0; written < LargeFileBytes; written += chunk.Length)
            {
                _random.NextBytes(chunk);
                stream.Write(chunk);
            }
        }

        _log.Add($"create {path} ({LargeFileBytes} bytes)");
    }

    private void Create(string path, byte[] content)
    {
        File.WriteAllBytes(Full(path), content);
        _log.Add($"write {path} ({content.Length} bytes)");
    }

    private byte[] RandomContent(long? size = null)
    {
        var bytes = new byte[size ?? (_random.Next(5) == 0 ? 0 : _random.Next(1, 64 * 1024))];
        _random.NextBytes(bytes);
        return bytes;
    }

    private List<string> Entries(bool directories)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        var entries = directories ? Directory.EnumerateDirectories(root, "*", options) : Directory.EnumerateFiles(root, "*", options);
        return entries.Select(full => Path.GetRelativePath(root, full)).Order(StringComparer.Ordinal).ToList();
    }

    private string RandomDirectory(List<string> directories) => directories.Count == 0 || _random.Next(3) == 0 ? "" : Pick(directories);

    private string Pick(List<string> items) => items[_random.Next(items.Count)];

    private string NewName() => $"n{_names++}";

    private string Full(string relative) => Path.Combine(root, relative);
}
