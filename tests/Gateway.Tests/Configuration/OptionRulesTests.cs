using Gateway.Configuration;
using Gateway.Observability;
using Gateway.Routing;

namespace Gateway.Tests.Configuration;

/// <summary>The rule attributes as the generated validators run them: each failure comes back as its full key and problem.</summary>
public sealed class OptionRulesTests
{
    [Fact]
    public void The_generators_member_path_becomes_the_configuration_key()
    {
        Assert.Equal("Gateway:Sites:1:Instances:0:Url", ConfigurationKeys.FromDisplayName("Gateway.Sites[1].Instances[0].Url"));
        Assert.Equal("Gateway:Routing:HealthCheck:Interval", ConfigurationKeys.FromDisplayName("Gateway:Routing.HealthCheck.Interval"));
    }

    [Fact]
    public void A_nested_rule_names_the_full_key_under_the_section_the_validator_was_given()
    {
        var routing = new RoutingOptions { HealthCheck = { Interval = TimeSpan.Zero, UnhealthyAfterProbeFailures = 0 } };

        var errors = new RoutingOptionsValidator().Check("Gateway:Routing", routing).ToList();

        Assert.Equal(
            [new("Gateway:Routing:HealthCheck:Interval", "00:00:00 must be greater than zero"), new("Gateway:Routing:HealthCheck:UnhealthyAfterProbeFailures", "0 must be at least 1")],
            errors);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void A_share_outside_0_to_1_or_not_a_number_is_refused(double ratio)
    {
        var error = Assert.Single(new ObservabilityOptionsValidator().Check("Gateway:Observability", new ObservabilityOptions { TraceSampleRatio = ratio }));

        Assert.Equal(("Gateway:Observability:TraceSampleRatio", $"{ratio} is not a share between 0 and 1"), (error.Key, error.Problem));
    }

    [Fact]
    public void Valid_options_give_no_error()
    {
        Assert.Empty(new RoutingOptionsValidator().Check("Gateway:Routing", new RoutingOptions()));
        Assert.Empty(new ObservabilityOptionsValidator().Check("Gateway:Observability", new ObservabilityOptions { TraceSampleRatio = 1 }));
    }

    [Fact]
    public void A_failure_splits_at_the_first_colon_space_so_a_problem_may_hold_more()
    {
        Assert.Equal(new ConfigurationError("Gateway:Listeners:PublicUrl", "'x' must be https:// on an IP address or localhost: why"),
            ConfigurationKeys.Parse("Gateway:Listeners:PublicUrl: 'x' must be https:// on an IP address or localhost: why"));
    }

    [Fact]
    public void An_instance_url_with_user_info_is_refused_without_echoing_it()
    {
        var site = new SiteOptions { Instances = [new() { Id = "a1", Url = "http://admin:s3cr3t@127.0.0.1:9001" }], Database = { Host = "127.0.0.1" } };

        var error = Assert.Single(new SiteOptionsValidator().Check("Gateway:Sites:0", site));

        Assert.Equal("Gateway:Sites:0:Instances:0:Url", error.Key);
        Assert.DoesNotContain("s3cr3t", error.Problem);
    }
}
