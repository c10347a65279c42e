using System.Globalization;

namespace Gateway.Observability;

/// <summary>
/// Writes metric families in the Prometheus text exposition format 0.0.4: a HELP and a TYPE line per family, then
/// its samples. Families are ordered by name, series by their labels and labels by name, so two scrapes of the same
/// state are byte-identical and a diff between scrapes shows only what changed.
/// </summary>
public static class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void Write(IEnumerable<MetricSnapshot> families, TextWriter output)
    {
        foreach (var family in families.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            output.Write($"# HELP {family.Name} {EscapeHelp(family.Help)}\n");
            output.Write($"# TYPE {family.Name} {TypeName(family.Type)}\n");
            foreach (var series in family.Series.Select(Ordered).Order(LabelsComparer.Instance))
            {
                WriteSeries(family, series, output);
            }
        }
    }

    public static string Write(IEnumerable<MetricSnapshot> families)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        Write(families, output);
        return output.ToString();
    }

    private static void WriteSeries(MetricSnapshot family, SeriesSnapshot series, TextWriter output)
    {
        if (family.Type != MetricType.Histogram)
        {
            WriteSample(output, family.Name, series.Labels, null, FormatValue(series.Value));
            return;
        }

        foreach (var bucket in series.Buckets)
        {
            WriteSample(output, family.Name + "_bucket", series.Labels, new Label("le", FormatValue(bucket.UpperBound)), FormatCount(bucket.CumulativeCount));
        }

        WriteSample(output, family.Name + "_sum", series.Labels, null, FormatValue(series.Sum));
        WriteSample(output, family.Name + "_count", series.Labels, null, FormatCount(series.Count));
    }

    private static void WriteSample(TextWriter output, string name, IReadOnlyList<Label> labels, Label? extra, string value)
    {
        output.Write(name);
        if (labels.Count > 0 || extra is not null)
        {
            output.Write('{');
            var separator = "";
            foreach (var label in extra is { } last ? [.. labels, last] : labels)
            {
                output.Write($"{separator}{label.Name}=\"{EscapeLabelValue(label.Value)}\"");
                separator = ",";
            }

            output.Write('}');
        }

        output.Write($" {value}\n");
    }

    private static SeriesSnapshot Ordered(SeriesSnapshot series) =>
        series with { Labels = series.Labels.OrderBy(label => label.Name, StringComparer.Ordinal).ToList() };

    private static string TypeName(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        MetricType.Histogram => "histogram",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Go's float syntax, which Prometheus parses: +Inf, -Inf, NaN, and the shortest round-trip decimal.</summary>
    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string FormatCount(long count) => count.ToString(CultureInfo.InvariantCulture);

    private static string EscapeHelp(string help) => help.Replace("\\", @"\\").Replace("\n", @"\n");

    private static string EscapeLabelValue(string value) => value.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    /// <summary>Orders series by their (already name-ordered) labels, pair by pair.</summary>
    private sealed class LabelsComparer : IComparer<SeriesSnapshot>
    {
        public static readonly LabelsComparer Instance = new();

        public int Compare(SeriesSnapshot? x, SeriesSnapshot? y)
        {
            var left = x!.Labels;
            var right = y!.Labels;
            for (var i = 0; i < Math.Min(left.Count, right.Count); i++)
            {
                var byName = string.CompareOrdinal(left[i].Name, right[i].Name);
                if (byName != 0)
                {
                    return byName;
                }

                var byValue = string.CompareOrdinal(left[i].Value, right[i].Value);
                if (byValue != 0)
                {
                    return byValue;
                }
            }

            return left.Count.CompareTo(right.Count);
        }
    }
}
