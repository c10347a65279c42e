using System.Text.Json;

namespace Gateway.Cli.Rendering;

/// <summary>
/// Any JSON shown readably without knowing its schema: "label: value" lines, nested objects indented, arrays of
/// objects as tables. This is how sections a newer gateway adds (or that the CLI has no renderer for) still read well.
/// </summary>
public static class JsonOutline
{
    public static void Write(TextWriter output, JsonElement value, string indent = "  ", IReadOnlySet<string>? skip = null)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject().Where(p => skip?.Contains(p.Name) != true))
                {
                    WriteProperty(output, property.Name, property.Value, indent);
                }

                break;
            case JsonValueKind.Array when value.GetArrayLength() > 0 && value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.Object):
                TableOf(value).WriteTo(output, indent);
                break;
            default:
                output.WriteLine(indent + Format.Scalar(value));
                break;
        }
    }

    public static void WriteProperty(TextWriter output, string name, JsonElement value, string indent)
    {
        var label = Format.Label(name);
        if (value.ValueKind == JsonValueKind.Object && value.EnumerateObject().Any())
        {
            output.WriteLine($"{indent}{label}:");
            Write(output, value, indent + "  ");
        }
        else if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && !value.EnumerateArray().All(Format.IsScalar))
        {
            output.WriteLine($"{indent}{label}:");
            Write(output, value, indent + "  ");
        }
        else
        {
            output.WriteLine($"{indent}{label}: {Format.Scalar(value)}");
        }
    }

    /// <summary>Columns are every field any element has, in order of first appearance; missing cells are "-".</summary>
    private static TextTable TableOf(JsonElement array)
    {
        var columns = array.EnumerateArray().SelectMany(item => item.EnumerateObject().Select(p => p.Name)).Distinct().ToList();
        var table = new TextTable(columns.Select(Format.Label).ToArray());
        foreach (var item in array.EnumerateArray())
        {
            table.Add(columns.Select(column => item.TryGetProperty(column, out var cell) ? Format.Scalar(cell) : null).ToArray());
        }

        return table;
    }
}
