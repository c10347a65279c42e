namespace Gateway.Tests.Observability;

/// <summary>promtool on the files in deploy/prometheus: it exits non-zero, and the runner throws with its report, on any problem.</summary>
public sealed class AlertRulesTests
{
    [Fact]
    public async Task The_alert_rules_are_valid()
    {
        var report = await PrometheusTools.RunPromtoolAsync("check", "rules", RepositoryFiles.AlertRules);

        Assert.Contains("SUCCESS", report);
    }

    [Fact]
    public async Task The_alert_rules_pass_their_unit_tests()
    {
        var report = await PrometheusTools.RunPromtoolAsync("test", "rules", RepositoryFiles.AlertRuleTests);

        Assert.Contains("SUCCESS", report);
    }

    [Fact]
    public async Task The_deployable_prometheus_configuration_is_valid_and_finds_the_rules()
    {
        var report = await PrometheusTools.RunPromtoolAsync("check", "config", RepositoryFiles.PrometheusConfig);

        Assert.Contains("1 rule files found", report);
    }
}
