namespace FilestoreBench;

/// <summary>--name value pairs, with defaults at the point of use.</summary>
public sealed class Arguments(Dictionary<string, string> values)
{
    public static Arguments Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        using var items = args.GetEnumerator();
        while (items.MoveNext())
        {
            var name = items.Current.StartsWith("--", StringComparison.Ordinal) ? items.Current[2..] : throw new ArgumentException($"expected --name, got '{items.Current}'");
            values[name] = items.MoveNext() ? items.Current : throw new ArgumentException($"--{name} needs a value");
        }

        return new Arguments(values);
    }

    public int Int(string name, int fallback) => values.TryGetValue(name, out var value) ? int.Parse(value) : fallback;

    public long Long(string name, long fallback) => values.TryGetValue(name, out var value) ? long.Parse(value) : fallback;

    /// <summary>A fresh directory for one run: under --root when given, else under /var/tmp (a disk, not a tmpfs).</summary>
    public string RunDirectory(string what) =>
        Directory.CreateDirectory(Path.Combine(values.GetValueOrDefault("root", "/var/tmp"), $"filestore-bench-{what}-{Environment.ProcessId}")).FullName;
}
