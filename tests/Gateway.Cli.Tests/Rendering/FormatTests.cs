using System.Text.Json;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Tests.Rendering;

public sealed class FormatTests
{
    [Theory]
    [InlineData("replayLagBytes", "replay lag bytes")]
    [InlineData("inFlight", "in flight")]
    [InlineData("rto", "rto")]
    [InlineData("walLSN", "wal lsn")]
    [InlineData("unreplicated_files", "unreplicated files")]
    public void JsonNamesReadAsWords(string name, string label) => Assert.Equal(label, Format.Label(name));

    [Theory]
    [InlineData("\"00:00:00.0042857\"", "4 ms")]
    [InlineData("\"00:00:02.5\"", "2.50 s")]
    [InlineData("\"00:03:05\"", "3 min 05 s")]
    [InlineData("\"1.02:00:00\"", "1560 min 00 s")]
    [InlineData("\"2026-11-22T04:05:30.1234567+00:00\"", "2026-11-22 04:05:30.123 +00:00")]
    [InlineData("\"A -> B\"", "A -> B")]
    [InlineData("\"\"", "-")]
    [InlineData("null", "-")]
    [InlineData("true", "yes")]
    [InlineData("12345", "12345")]
    [InlineData("[]", "none")]
    [InlineData("[\"a\", 2]", "a, 2")]
    [InlineData("{\"x\":1}", "{\"x\":1}")]
    public void ScalarsReadOnOneLine(string json, string text)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(text, Format.Scalar(document.RootElement));
    }

    [Fact]
    public void TheLastColumnOfATableIsNotPadded()
    {
        var table = new TextTable("id", "reason").Add("a1", "short").Add("a22", null);
        var text = Rendering(table);

        Assert.Equal("  ID   REASON\n  a1   short\n  a22  -\n", text.ReplaceLineEndings("\n"));
    }

    private static string Rendering(TextTable table)
    {
        using var output = new StringWriter();
        table.WriteTo(output);
        return output.ToString();
    }
}
