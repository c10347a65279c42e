using System.Text.RegularExpressions;
using Gateway.Model;

namespace Gateway.Tests.Observability;

/// <summary>promtool on the files in deploy/prometheus: it exits non-zero, and the runner throws with its report, on any problem.</summary>
public sealed partial class AlertRulesTests
{
    [Integration]
    [Fact]
    public async Task The_alert_rules_are_valid()
    {
        var report = await PrometheusTools.RunPromtoolAsync("check", "rules", RepositoryFiles.AlertRules);

        Assert.Contains("SUCCESS", report);
    }

    [Integration]
    [Fact]
    public async Task The_alert_rules_pass_their_unit_tests()
    {
        var report = await PrometheusTools.RunPromtoolAsync("test", "rules", RepositoryFiles.AlertRuleTests, RepositoryFiles.AlertRuleDaysTests);

        Assert.Equal(2, Regex.Matches(report, "SUCCESS").Count);
    }

    [Integration]
    [Fact]
    public async Task The_deployable_prometheus_configuration_is_valid_and_finds_the_rules()
    {
        var report = await PrometheusTools.RunPromtoolAsync("check", "config", RepositoryFiles.PrometheusConfig);

        Assert.Contains("1 rule files found", report);
    }

    /// <summary>Each catalogued alarm has exactly one rule on its gateway_alarm series, with the catalogue's severity and summary.</summary>
    [Fact]
    public void Every_catalogued_alarm_has_its_own_rule_with_its_severity_and_summary()
    {
        var rules = AlarmRule().Matches(File.ReadAllText(RepositoryFiles.AlertRules))
            .Select(match => (Key: match.Groups["key"].Value, Severity: match.Groups["severity"].Value, Description: match.Groups["description"].Value))
            .ToList();

        Assert.Equal(AlarmCatalogue.All.Select(alarm => alarm.Key).Order(), rules.Select(rule => rule.Key).Order());
        foreach (var alarm in AlarmCatalogue.All)
        {
            var rule = rules.Single(rule => rule.Key == alarm.Key);
            Assert.Equal(alarm.Severity.ToString().ToLowerInvariant(), rule.Severity);
            Assert.StartsWith(alarm.Summary + " ", rule.Description);
        }
    }

    [GeneratedRegex("""expr: gateway_alarm\{alarm="(?<key>[^"]+)"\} == 1\n\s+labels:\n\s+severity: (?<severity>\w+)\n\s+annotations:\n\s+summary: "[^"]*"\n\s+description: "(?<description>[^"]*)"\n""")]
    private static partial Regex AlarmRule();
}
