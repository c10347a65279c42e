namespace Gateway.Testing;

/// <summary>
/// The guard that keeps the fast run honest. <c>tests/run.sh --fast</c> runs only tests without [Integration] and
/// sets <see cref="FastRunVariable"/>; every fixture that starts a real part calls <see cref="Starting"/> first, which
/// then fails the test naming the part. So a new test that needs PostgreSQL, a process or a listener but lacks the
/// mark fails the fast run loudly instead of making it slow or dependent on what happens to be installed.
/// </summary>
public static class RealParts
{
    public const string FastRunVariable = "GATEWAY_TESTS_FAST";

    public static bool FastRun => Environment.GetEnvironmentVariable(FastRunVariable) == "1";

    /// <param name="part">What is about to start, as the failure names it: "a PostgreSQL server", "promtool".</param>
    public static void Starting(string part)
    {
        if (FastRun)
        {
            throw new InvalidOperationException(
                $"{part} is about to start in the fast run ({FastRunVariable}=1, tests/run.sh --fast), which runs only tests " +
                "that need no real part: mark this test's class [Integration]");
        }
    }
}
