using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Database;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Configuration;

/// <summary>One test per validation rule: each breaks one thing in an otherwise valid configuration and expects that key named.</summary>
public sealed class GatewayConfigurationLoaderTests : IDisposable
{
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();

    public void Dispose() => _settings.Dispose();

    private void AssertRejected(string key, string problemFragment)
    {
        var errors = _settings.Errors();
        Assert.Contains(errors, e => e.Key == key && e.Problem.Contains(problemFragment, StringComparison.Ordinal));
    }

    [Fact]
    public void A_valid_configuration_loads_with_its_values_and_the_documented_defaults()
    {
        var options = _settings.Load();

        Assert.Equal("A", options.ActiveSite);
        Assert.Equal(["a1", "a2"], options.Sites[0].Instances.Select(i => i.Id));
        Assert.Equal(WritePolicy.Prefer, options.Routing.WritePolicy);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Routing.HealthCheck.Timeout);
        Assert.Equal(64L * 1024 * 1024, options.Limits.MaxRequestBodySize);
    }

    [Fact]
    public void A_misspelt_key_is_named_with_its_full_path()
    {
        _settings.Values["Gateway:Routing:HealthCheck:Intervall"] = "00:00:01";
        AssertRejected("Gateway:Routing:HealthCheck:Intervall", "unknown key");
    }

    [Fact]
    public void An_unknown_key_inside_a_list_element_is_named()
    {
        _settings.Values["Gateway:Sites:1:Instances:0:Adress"] = "x";
        AssertRejected("Gateway:Sites:1:Instances:0:Adress", "unknown key");
    }

    [Fact]
    public void A_value_that_does_not_convert_names_its_key()
    {
        _settings.Values["Gateway:Routing:WritePolicy"] = "Sometimes";
        AssertRejected("Gateway:Routing:WritePolicy", "Sometimes");
    }

    [Fact]
    public void A_missing_gateway_section_is_reported()
    {
        _settings.Values.Clear();
        AssertRejected("Gateway", "section is missing");
    }

    [Fact]
    public void An_active_site_that_is_not_defined_is_rejected()
    {
        _settings.Values["Gateway:ActiveSite"] = "C";
        AssertRejected("Gateway:ActiveSite", "unknown site id 'C'");
    }

    [Fact]
    public void A_missing_active_site_is_rejected()
    {
        _settings.Values.Remove("Gateway:ActiveSite");
        AssertRejected("Gateway:ActiveSite", "is required");
    }

    [Fact]
    public void A_single_site_is_rejected()
    {
        foreach (var key in _settings.Values.Keys.Where(k => k.StartsWith("Gateway:Sites:1:")).ToList())
        {
            _settings.Values.Remove(key);
        }

        AssertRejected("Gateway:Sites", "exactly two sites");
    }

    [Fact]
    public void A_duplicate_site_id_is_rejected()
    {
        _settings.Values["Gateway:Sites:1:Id"] = "A";
        AssertRejected("Gateway:Sites:1:Id", "duplicate site id 'A'");
    }

    [Fact]
    public void A_duplicate_instance_id_across_sites_is_rejected()
    {
        _settings.Values["Gateway:Sites:1:Instances:0:Id"] = "a1";
        AssertRejected("Gateway:Sites:1:Instances:0:Id", "duplicate instance id 'a1'");
    }

    [Fact]
    public void A_duplicate_instance_url_is_rejected_even_with_a_trailing_slash()
    {
        _settings.Values["Gateway:Sites:1:Instances:1:Url"] = "http://127.0.0.1:5101/";
        AssertRejected("Gateway:Sites:1:Instances:1:Url", "duplicate instance URL");
    }

    [Theory]
    [InlineData("127.0.0.1:5101")]
    [InlineData("ftp://127.0.0.1:5101")]
    [InlineData("http://")]
    [InlineData("http://127.0.0.1:5101/?debug=1")]
    public void A_malformed_instance_url_is_rejected(string url)
    {
        _settings.Values["Gateway:Sites:0:Instances:1:Url"] = url;
        Assert.Contains(_settings.Errors(), e => e.Key == "Gateway:Sites:0:Instances:1:Url");
    }

    [Fact]
    public void A_site_without_instances_is_rejected()
    {
        foreach (var key in _settings.Values.Keys.Where(k => k.StartsWith("Gateway:Sites:1:Instances:")).ToList())
        {
            _settings.Values.Remove(key);
        }

        AssertRejected("Gateway:Sites:1:Instances", "at least one service instance");
    }

    [Fact]
    public void A_database_port_out_of_range_is_rejected()
    {
        _settings.Values["Gateway:Sites:0:Database:Port"] = "70000";
        AssertRejected("Gateway:Sites:0:Database:Port", "70000 is not a TCP port");
    }

    [Fact]
    public void A_missing_database_host_is_rejected()
    {
        _settings.Values["Gateway:Sites:1:Database:Host"] = "";
        AssertRejected("Gateway:Sites:1:Database:Host", "is required");
    }

    [Fact]
    public void A_missing_san_directory_is_rejected()
    {
        _settings.Values["Gateway:Sites:1:SanPath"] = Path.Combine(_settings.Root, "no-such-san");
        AssertRejected("Gateway:Sites:1:SanPath", "does not exist");
    }

    [Fact]
    public void A_san_path_that_is_a_file_is_rejected()
    {
        var file = Path.Combine(_settings.Root, "a-file");
        File.WriteAllText(file, "x");
        _settings.Values["Gateway:Sites:1:SanPath"] = file;
        AssertRejected("Gateway:Sites:1:SanPath", "is a file, not a directory");
    }

    [Fact]
    public void A_relative_san_path_is_rejected()
    {
        _settings.Values["Gateway:Sites:0:SanPath"] = "san-a";
        AssertRejected("Gateway:Sites:0:SanPath", "must be an absolute path");
    }

    [Fact]
    public void Both_sites_on_the_same_san_directory_are_rejected()
    {
        _settings.Values["Gateway:Sites:1:SanPath"] = _settings.SanA + "/";
        AssertRejected("Gateway:Sites:1:SanPath", "duplicate SAN directory");
    }

    [Fact]
    public void Both_sites_on_the_same_san_directory_through_a_symlink_are_rejected()
    {
        var alias = Path.Combine(_settings.Root, "alias-of-a");
        Directory.CreateSymbolicLink(alias, _settings.SanA);
        _settings.Values["Gateway:Sites:1:SanPath"] = alias;
        AssertRejected("Gateway:Sites:1:SanPath", "duplicate SAN directory");
    }

    [Fact]
    public void A_filestore_link_that_is_a_directory_is_rejected()
    {
        var directory = Path.Combine(_settings.Root, "plain-dir");
        Directory.CreateDirectory(directory);
        _settings.Values["Gateway:Filestore:Links:0"] = directory;
        AssertRejected("Gateway:Filestore:Links:0", "is not a symlink");
    }

    [Fact]
    public void A_missing_filestore_link_is_rejected_with_the_command_to_create_it()
    {
        _settings.Values["Gateway:Filestore:Links:0"] = Path.Combine(_settings.Root, "no-link");
        AssertRejected("Gateway:Filestore:Links:0", "ln -s");
    }

    [Fact]
    public void A_filestore_link_pointing_outside_both_sans_is_rejected()
    {
        var elsewhere = Path.Combine(_settings.Root, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        var link = Path.Combine(_settings.Root, "stray-link");
        File.CreateSymbolicLink(link, elsewhere);
        _settings.Values["Gateway:Filestore:Links:0"] = link;
        AssertRejected("Gateway:Filestore:Links:0", "neither site's SanPath");
    }

    [Fact]
    public void No_filestore_link_is_rejected()
    {
        _settings.Values.Remove("Gateway:Filestore:Links:0");
        AssertRejected("Gateway:Filestore:Links", "at least one filestore link");
    }

    [Theory]
    [InlineData("Gateway:Routing:HealthCheck:Interval", "00:00:00")]
    [InlineData("Gateway:Routing:HealthCheck:Timeout", "-00:00:01")]
    [InlineData("Gateway:Routing:HealthCheck:PassiveReactivationPeriod", "00:00:00")]
    [InlineData("Gateway:Limits:RequestHeadersTimeout", "00:00:00")]
    [InlineData("Gateway:Database:ConnectTimeout", "-00:00:00.100")]
    [InlineData("Gateway:Database:StartupTimeout", "00:00:00")]
    public void A_zero_or_negative_interval_is_rejected(string key, string value)
    {
        _settings.Values[key] = value;
        AssertRejected(key, "must be greater than zero");
    }

    [Fact]
    public void The_public_listener_and_pg_endpoint_limits_have_their_documented_defaults()
    {
        var options = _settings.Load();

        Assert.Equal(64, options.Limits.MaxRequestHeaderCount);
        Assert.Equal(32 * 1024, options.Limits.MaxRequestHeadersTotalSize);
        Assert.Equal(8 * 1024, options.Limits.MaxRequestLineSize);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.RequestHeadersTimeout);
        Assert.Equal(240, options.Limits.MinRequestBodyDataRate);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Limits.MinRequestBodyDataRateGracePeriod);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Limits.KeepAliveTimeout);
        Assert.Equal(10_000, options.Limits.MaxConcurrentConnections);
        Assert.Equal(100, options.Database.MaxConnectionsPerEndpoint);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Database.StartupTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Database.ConnectTimeout);
        Assert.Equal(PgEndpointScheduling.Inline, options.Database.EndpointScheduling);
    }

    [Fact]
    public void An_endpoint_scheduling_the_gateway_does_not_know_names_its_key_and_value()
    {
        _settings.Values["Gateway:Database:EndpointScheduling"] = "Eventually";
        AssertRejected("Gateway:Database:EndpointScheduling", "Eventually");
    }

    [Fact]
    public void A_minimum_request_body_data_rate_of_zero_is_rejected()
    {
        _settings.Values["Gateway:Limits:MinRequestBodyDataRate"] = "0";
        AssertRejected("Gateway:Limits:MinRequestBodyDataRate", "greater than zero");
    }

    [Fact]
    public void A_body_data_rate_grace_period_kestrel_cannot_observe_is_rejected()
    {
        _settings.Values["Gateway:Limits:MinRequestBodyDataRateGracePeriod"] = "00:00:01";
        AssertRejected("Gateway:Limits:MinRequestBodyDataRateGracePeriod", "must be more than 1 second");
    }

    [Fact]
    public void A_pg_endpoint_connection_limit_below_one_is_rejected()
    {
        _settings.Values["Gateway:Database:MaxConnectionsPerEndpoint"] = "0";
        AssertRejected("Gateway:Database:MaxConnectionsPerEndpoint", "must be at least 1");
    }

    [Fact]
    public void A_probe_threshold_below_one_is_rejected()
    {
        _settings.Values["Gateway:Routing:HealthCheck:UnhealthyAfterProbeFailures"] = "0";
        AssertRejected("Gateway:Routing:HealthCheck:UnhealthyAfterProbeFailures", "must be at least 1");
    }

    [Fact]
    public void A_negative_5xx_threshold_is_rejected_and_0_turns_it_off()
    {
        Assert.Equal(5, _settings.Load().Routing.HealthCheck.UnhealthyAfterConsecutive5xx);
        _settings.Values["Gateway:Routing:HealthCheck:UnhealthyAfterConsecutive5xx"] = "0";
        Assert.Equal(0, _settings.Load().Routing.HealthCheck.UnhealthyAfterConsecutive5xx);

        _settings.Values["Gateway:Routing:HealthCheck:UnhealthyAfterConsecutive5xx"] = "-1";
        AssertRejected("Gateway:Routing:HealthCheck:UnhealthyAfterConsecutive5xx", "-1 must be 0 (off) or more");
    }

    [Fact]
    public void A_health_path_without_a_leading_slash_is_rejected()
    {
        _settings.Values["Gateway:Routing:HealthCheck:Path"] = "healthz";
        AssertRejected("Gateway:Routing:HealthCheck:Path", "must start with '/'");
    }

    [Fact]
    public void Two_listeners_on_one_port_are_rejected()
    {
        _settings.Values["Gateway:Listeners:AdminUrl"] = $"http://127.0.0.1:{_settings.PublicPort}";
        AssertRejected("Gateway:Listeners:AdminUrl", "duplicate listening port");
    }

    [Fact]
    public void A_malformed_database_endpoint_is_rejected()
    {
        _settings.Values["Gateway:Listeners:PgWriteEndpoint"] = "localhost";
        AssertRejected("Gateway:Listeners:PgWriteEndpoint", "is not an IP address and port");
    }

    [Fact]
    public void A_listener_on_a_host_name_is_rejected()
    {
        _settings.Values["Gateway:Listeners:PublicUrl"] = "http://gateway.example:8080";
        AssertRejected("Gateway:Listeners:PublicUrl", "must be http:// on an IP address or localhost");
    }

    [Fact]
    public void A_missing_admin_token_file_is_rejected()
    {
        _settings.Values["Gateway:Admin:TokenFile"] = Path.Combine(_settings.Root, "no-token");
        AssertRejected("Gateway:Admin:TokenFile", "does not exist");
    }

    [Theory]
    [InlineData("Gateway:Admin:MaxFailedAuthAttempts", "0", "must be at least 1")]
    [InlineData("Gateway:Admin:FailedAuthWindow", "00:00:00", "must be greater than zero")]
    [InlineData("Gateway:Admin:MaxRequestBodySize", "-1", "must be at least 1")]
    public void Admin_limits_that_would_disable_the_limiter_or_every_request_are_rejected(string key, string value, string problem)
    {
        _settings.Values[key] = value;
        AssertRejected(key, problem);
    }

    [Fact]
    public void Admin_limits_have_their_documented_defaults()
    {
        var admin = _settings.Load().Admin;

        Assert.Equal((10, TimeSpan.FromMinutes(1), 16 * 1024), (admin.MaxFailedAuthAttempts, admin.FailedAuthWindow, admin.MaxRequestBodySize));
    }

    [Theory]
    [InlineData("Gateway:Admin:TokenFile")]
    [InlineData("Gateway:Database:PasswordFile")]
    public void A_secret_pasted_where_its_file_belongs_is_rejected_without_being_echoed(string key)
    {
        const string secret = "s3cr3t-pasted-by-mistake";
        _settings.Values[key] = secret;

        AssertRejected(key, "must be the absolute path of a file holding the secret");
        Assert.DoesNotContain(secret, string.Join("\n", _settings.Errors()));
    }

    [Fact]
    public void An_empty_allowed_hosts_entry_is_rejected()
    {
        _settings.Values["Gateway:Routing:AllowedHosts:0"] = "";
        AssertRejected("Gateway:Routing:AllowedHosts", "no empty entries");
    }

    private void AddHook(string step, string? when, string command, string? timeout = null)
    {
        const string key = "Gateway:Coordinator:Hooks:0";
        _settings.Values[$"{key}:Step"] = step;
        _settings.Values[$"{key}:When"] = when;
        _settings.Values[$"{key}:Command"] = command;
        if (timeout is not null)
        {
            _settings.Values[$"{key}:Timeout"] = timeout;
        }
    }

    [Fact]
    public void A_hook_loads_with_its_step_and_the_default_timeout()
    {
        AddHook("move-database", "After", "logger moved");

        var hook = Assert.Single(_settings.Load().Coordinator.Hooks);

        Assert.Equal(("move-database", HookWhen.After, "logger moved", TimeSpan.FromSeconds(10)), (hook.Step, hook.When, hook.Command, hook.Timeout));
    }

    [Fact]
    public void A_hook_on_an_unknown_step_names_the_value_and_the_valid_steps()
    {
        AddHook("move-the-database", "Before", "true");
        AssertRejected("Gateway:Coordinator:Hooks:0:Step", "unknown step 'move-the-database'; the steps are switch, persist-epoch, hold-writes");
    }

    [Fact]
    public void A_hook_without_when_is_rejected()
    {
        AddHook("switch", null, "true");
        AssertRejected("Gateway:Coordinator:Hooks:0:When", "is required: Before or After");
    }

    [Fact]
    public void A_hook_with_an_empty_command_is_rejected()
    {
        AddHook("switch", "Before", "  ");
        AssertRejected("Gateway:Coordinator:Hooks:0:Command", "is required");
    }

    [Fact]
    public void A_hook_with_a_non_positive_timeout_is_rejected()
    {
        AddHook("switch", "Before", "true", timeout: "00:00:00");
        AssertRejected("Gateway:Coordinator:Hooks:0:Timeout", "must be greater than zero");
    }

    [Fact]
    public void Every_problem_is_reported_at_once_not_only_the_first()
    {
        _settings.Values["Gateway:ActiveSite"] = "C";
        _settings.Values["Gateway:Routing:HealthCheck:Interval"] = "00:00:00";
        _settings.Values["Gateway:Sites:0:Database:Port"] = "0";

        Assert.Equal(3, _settings.Errors().Count);
    }
}
