using Gateway.Tests.Support;

namespace Gateway.Tests.Cluster;

/// <summary>Gateway:Cluster through the real loader: each test breaks one rule and expects the full key named.</summary>
public sealed class ClusterOptionsTests : IDisposable
{
    private const string Secret = "s3cr3t-Passw0rd";
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();

    public ClusterOptionsTests()
    {
        _settings.Values["Gateway:Cluster:Etcd:Endpoints:0"] = "http://127.0.0.1:2379";
        _settings.Values["Gateway:Cluster:Etcd:Endpoints:1"] = "http://127.0.0.1:2479";
        _settings.Values["Gateway:Cluster:Name"] = "payments";
        _settings.Values["Gateway:Cluster:GatewayId"] = "gw-a";
    }

    public void Dispose() => _settings.Dispose();

    private void AssertRejected(string key, string problemFragment)
    {
        var errors = _settings.Errors();
        Assert.Contains(errors, e => e.Key == key && e.Problem.Contains(problemFragment, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.ToString().Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public void A_valid_cluster_section_loads_with_the_documented_defaults()
    {
        var cluster = _settings.Load().Cluster;
        Assert.True(cluster.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(3), cluster.LeaseTtl);
        Assert.Equal(TimeSpan.FromSeconds(1), cluster.RenewInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), cluster.StartupTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), cluster.Etcd.RequestTimeout);
    }

    [Fact]
    public void Without_a_cluster_section_the_gateway_runs_alone()
    {
        foreach (var key in _settings.Values.Keys.Where(k => k.StartsWith("Gateway:Cluster", StringComparison.Ordinal)).ToList())
        {
            _settings.Values.Remove(key);
        }

        Assert.False(_settings.Load().Cluster.Enabled);
    }

    [Fact]
    public void A_name_without_endpoints_is_rejected()
    {
        _settings.Values.Remove("Gateway:Cluster:Etcd:Endpoints:0");
        _settings.Values.Remove("Gateway:Cluster:Etcd:Endpoints:1");
        AssertRejected("Gateway:Cluster:Etcd:Endpoints", "Gateway:Cluster:Name is set");
    }

    [Fact]
    public void An_endpoint_with_a_password_in_it_is_rejected_without_showing_it()
    {
        _settings.Values["Gateway:Cluster:Etcd:Endpoints:1"] = $"http://root:{Secret}@127.0.0.1:2479";
        AssertRejected("Gateway:Cluster:Etcd:Endpoints:1", "must not carry user info");
    }

    [Theory]
    [InlineData("127.0.0.1:2379", "is not an absolute http")]
    [InlineData("http://127.0.0.1", "has no port")]
    [InlineData("http://127.0.0.1:2379/v3", "scheme, host and port only")]
    [InlineData("http://127.0.0.1:2379", "duplicate etcd endpoint")]
    public void A_bad_endpoint_is_named(string endpoint, string problem)
    {
        _settings.Values["Gateway:Cluster:Etcd:Endpoints:1"] = endpoint;
        _settings.Values["Gateway:Cluster:Etcd:Endpoints:0"] = "http://127.0.0.1:2379";
        AssertRejected("Gateway:Cluster:Etcd:Endpoints:1", problem);
    }

    [Fact]
    public void Mixed_schemes_are_rejected()
    {
        _settings.Values["Gateway:Cluster:Etcd:Endpoints:1"] = "https://127.0.0.1:2479";
        AssertRejected("Gateway:Cluster:Etcd:Endpoints", "mixes http:// and https://");
    }

    [Theory]
    [InlineData("Name", "", "is required in cluster mode")]
    [InlineData("Name", "pay/ments", "letters, digits")]
    [InlineData("GatewayId", "", "is required in cluster mode")]
    [InlineData("GatewayId", "-gw", "starting with a letter or digit")]
    [InlineData("LeaseTtl", "00:00:01", "at least 2")]
    [InlineData("LeaseTtl", "00:00:02.500", "whole number of seconds")]
    [InlineData("StartupTimeout", "00:00:00", "greater than zero")]
    [InlineData("Etcd:RequestTimeout", "00:00:02", "must not exceed a third of Gateway:Cluster:LeaseTtl")]
    public void A_bad_value_is_named(string key, string value, string problem)
    {
        _settings.Values[$"Gateway:Cluster:{key}"] = value;
        AssertRejected($"Gateway:Cluster:{key}", problem);
    }

    [Fact]
    public void A_password_put_where_its_file_belongs_is_never_echoed()
    {
        _settings.Values["Gateway:Cluster:Etcd:Username"] = "gateway";
        _settings.Values["Gateway:Cluster:Etcd:PasswordFile"] = Secret;
        AssertRejected("Gateway:Cluster:Etcd:PasswordFile", "absolute path of a file holding the password");
    }

    [Fact]
    public void A_user_needs_a_password_file_that_exists_and_is_not_empty()
    {
        _settings.Values["Gateway:Cluster:Etcd:Username"] = "gateway";
        AssertRejected("Gateway:Cluster:Etcd:PasswordFile", "is required when Gateway:Cluster:Etcd:Username is set");

        var file = Path.Combine(_settings.Root, "etcd-password");
        _settings.Values["Gateway:Cluster:Etcd:PasswordFile"] = file;
        AssertRejected("Gateway:Cluster:Etcd:PasswordFile", "does not exist");
        File.WriteAllText(file, "\n");
        AssertRejected("Gateway:Cluster:Etcd:PasswordFile", "is empty");
        File.WriteAllText(file, Secret + "\n");
        Assert.Equal("gateway", _settings.Load().Cluster.Etcd.Username);
    }

    [Fact]
    public void Certificates_need_https_endpoints_and_come_in_pairs()
    {
        _settings.Values["Gateway:Cluster:Etcd:ClientCertificate"] = Path.Combine(_settings.Root, "client.pem");
        AssertRejected("Gateway:Cluster:Etcd:Endpoints", "use https:// endpoints");
        AssertRejected("Gateway:Cluster:Etcd:ClientCertificateKey", "is required when the other one is set");
    }

    [Theory]
    [InlineData("ftp://gw-a.example:8081")]
    [InlineData("gw-a.example:8081")]
    [InlineData("http://admin:" + Secret + "@gw-a.example:8081")]
    public void An_advertised_admin_url_that_is_no_plain_http_url_is_refused_without_echoing_it(string url)
    {
        _settings.Values["Gateway:Cluster:AdminUrl"] = url;

        AssertRejected("Gateway:Cluster:AdminUrl", "http:// or https:// URL without user info");
    }

    [Fact]
    public void An_advertised_admin_url_loads()
    {
        _settings.Values["Gateway:Cluster:AdminUrl"] = "https://gw-a.example:8081";

        Assert.Equal("https://gw-a.example:8081", _settings.Load().Cluster.AdminUrl);
    }
}
