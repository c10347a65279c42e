using Gateway.Testing;

namespace Gateway.Cli.Tests.Tour;

/// <summary>
/// The README's tour, followed command by command by tests/readme-tour.sh against a demo of its own (a copy of the
/// working tree, every port off the defaults), checking that each command does what the README says. Here so that
/// the test suite, and with it CI, runs it; it takes minutes (the copy is built first).
/// </summary>
[Integration]
public sealed class ReadmeTourTests
{
    [RootFact]
    public async Task Every_command_of_the_readme_tour_does_what_the_readme_says()
    {
        var script = Path.Combine(RepositoryRoot(), "tests", "readme-tour.sh");

        // The script bounds itself (TOUR_TIMEOUT, 20 min); this bound only catches a script that ignores its own.
        var output = await ProcessRunner.RunAsync("/bin/bash", [script], TimeSpan.FromMinutes(25));

        Assert.Contains("readme-tour: all ", output);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Gateway.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A test that starts the demo, which runs PostgreSQL as the postgres user: skipped, saying so, unless run as root.</summary>
[Xunit.Sdk.TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
public sealed class RootFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root: the demo runs PostgreSQL as the postgres user";
        }
    }
}
