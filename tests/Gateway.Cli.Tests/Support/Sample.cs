using Gateway.Cli.Api;

namespace Gateway.Cli.Tests.Support;

/// <summary>The JSON samples of the Samples folder (see SampleCapture for where they come from).</summary>
public static class Sample
{
    public static string Json(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    public static StatusDocument Status(string name) => AdminJson.TryRead<StatusDocument>(Json(name)) ?? throw new InvalidDataException($"{name} is not a status");

    public static OperationReport Report(string name) => AdminJson.TryRead<OperationReport>(Json(name)) ?? throw new InvalidDataException($"{name} is not a report");

    public static List<OperationReport> History(string name) => AdminJson.TryRead<List<OperationReport>>(Json(name)) ?? throw new InvalidDataException($"{name} is not a history");

    /// <summary>What a renderer writes, as one string.</summary>
    public static string Render(Action<TextWriter> render)
    {
        using var output = new StringWriter();
        render(output);
        return output.ToString();
    }
}
