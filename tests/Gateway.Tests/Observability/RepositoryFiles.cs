namespace Gateway.Tests.Observability;

/// <summary>The observability files operators deploy, found from the test output directory up to the repository root.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Dashboard => Path.Combine(Root, "dashboards", "gateway.json");
    public static string PrometheusConfig => Path.Combine(Root, "deploy", "prometheus", "prometheus.yml");
    public static string AlertRules => Path.Combine(Root, "deploy", "prometheus", "alerts.yml");
    public static string AlertRuleTests => Path.Combine(Root, "deploy", "prometheus", "alerts.test.yml");

    /// <summary>The rule tests of the alerts measured in hours or days, on a coarser evaluation step.</summary>
    public static string AlertRuleDaysTests => Path.Combine(Root, "deploy", "prometheus", "alerts.days.test.yml");

    private static string FindRoot()
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
