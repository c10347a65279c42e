using Xunit;

namespace Gateway.Testing;

/// <summary>
/// A benchmark that lives beside the tests because it drives the same real system: it runs only when its bench
/// script names it in <see cref="Variable"/> (one of its parts, or "all"), and is reported skipped, with the script to
/// run, everywhere else. Its timings are printed for bench/RESULTS.md, never asserted.
/// </summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    /// <param name="variable">The environment variable the bench script sets (GATEWAY_CLUSTER_BENCH, ...).</param>
    /// <param name="script">The script that runs it, named in the skip reason.</param>
    /// <param name="parts">The values of <paramref name="variable"/> that run this benchmark; "all" always does.</param>
    public BenchmarkFactAttribute(string variable, string script, params string[] parts) =>
        Skip = Benchmarks.SkipReason(variable, script, parts);
}

/// <summary>The same as <see cref="BenchmarkFactAttribute"/> for a benchmark with cases.</summary>
public sealed class BenchmarkTheoryAttribute : TheoryAttribute
{
    public BenchmarkTheoryAttribute(string variable, string script, params string[] parts) =>
        Skip = Benchmarks.SkipReason(variable, script, parts);
}

public static class Benchmarks
{
    /// <summary>Null when the bench script named one of the parts (or "all") in the variable; else why it is skipped.</summary>
    public static string? SkipReason(string variable, string script, string[] parts)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return value is not null && (value == "all" || parts.Contains(value))
            ? null
            : $"a benchmark: {script} runs it ({variable}={string.Join("|", parts.Append("all"))})";
    }
}
