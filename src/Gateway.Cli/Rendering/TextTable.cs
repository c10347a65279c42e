namespace Gateway.Cli.Rendering;

/// <summary>
/// A plain-text table with aligned columns and upper-case headers. The last column is not padded, so a long
/// reason or outcome in it wraps in the terminal instead of pushing every row wide.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public TextTable Add(params string?[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"a row of this table has {headers.Length} cells, not {cells.Length}", nameof(cells));
        }

        _rows.Add(cells.Select(cell => Format.Text(cell?.ReplaceLineEndings(" "))).ToArray());
        return this;
    }

    public void WriteTo(TextWriter output, string indent = "  ")
    {
        var upper = headers.Select(h => h.ToUpperInvariant()).ToArray();
        var widths = upper.Select((header, column) => _rows.Select(row => row[column].Length).Append(header.Length).Max()).ToArray();
        WriteRow(output, indent, upper, widths);
        foreach (var row in _rows)
        {
            WriteRow(output, indent, row, widths);
        }
    }

    private static void WriteRow(TextWriter output, string indent, string[] cells, int[] widths)
    {
        var padded = cells.Select((cell, column) => column == cells.Length - 1 ? cell : cell.PadRight(widths[column]));
        output.WriteLine((indent + string.Join("  ", padded)).TrimEnd());
    }
}
