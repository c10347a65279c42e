using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Testing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;

namespace Gateway.Tests.Tls;

/// <summary>TLS on the public listener: a real gateway, real handshakes, certificates renewed by replacing the PEM files.</summary>
public sealed class PublicTlsTests : EchoSitesTest
{

    private string CertificateFile => Path.Combine(Settings.Root, "public.crt");

    private string KeyFile => Path.Combine(Settings.Root, "public.key");

    private Uri PublicHttps => new($"https://127.0.0.1:{Settings.PublicPort}/");



    [Fact]
    public async Task The_public_listener_serves_https_and_a_renewed_certificate_from_the_next_handshake_on()
    {
        WritePem("gateway-one");
        UseHttps();
        await using var gateway = await RunningGateway.StartAsync(Settings);
        await gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));

        var (firstSubject, body) = await GetOverNewConnectionAsync("/hello");
        Assert.Equal("CN=gateway-one", firstSubject);
        Assert.Matches("^(a1|b1) GET /hello$", body);

        WritePem("gateway-two");
        Assert.Equal("CN=gateway-two", (await GetOverNewConnectionAsync("/again")).Subject);

        // A replacement that cannot be read leaves the renewed certificate in use, and says so.
        File.WriteAllText(CertificateFile, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        Assert.Equal("CN=gateway-two", (await GetOverNewConnectionAsync("/still")).Subject);
        var scrape = await MetricsScrape.FetchAsync(gateway.Admin.BaseAddress!);
        Assert.Equal(1, scrape.Value("gateway_tls_certificate_reload_failures_total"));
        Assert.True(scrape.Value("gateway_tls_certificate_expiry_seconds") > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(1, scrape.Value("gateway_alarm{alarm=\"tls-certificate-reload-failed\"}"));
        Assert.Contains("tls-certificate-reload-failed", await gateway.Admin.GetStringAsync("/admin/status"));

        // The next good pair ends the alarm with the handshake that loads it.
        WritePem("gateway-three");
        Assert.Equal("CN=gateway-three", (await GetOverNewConnectionAsync("/renewed")).Subject);
        var renewed = await MetricsScrape.FetchAsync(gateway.Admin.BaseAddress!);
        Assert.Equal(0, renewed.Value("gateway_alarm{alarm=\"tls-certificate-reload-failed\"}"));
    }

    [Fact]
    public void Https_without_a_certificate_and_a_certificate_on_http_are_both_rejected_naming_the_key()
    {
        Settings.Values["Gateway:Listeners:PublicUrl"] = $"https://127.0.0.1:{Settings.PublicPort}";
        Assert.Contains(Settings.Errors(), e => e.Key == "Gateway:Listeners:PublicUrl" && e.Problem.Contains("must be http://"));

        WritePem("gateway-one");
        UseHttps();
        Settings.Values["Gateway:Listeners:PublicUrl"] = $"http://127.0.0.1:{Settings.PublicPort}";
        Assert.Contains(Settings.Errors(), e => e.Key == "Gateway:Listeners:PublicUrl" && e.Problem.Contains("must be https://"));
    }

    [Fact]
    public void A_certificate_whose_key_file_is_missing_or_does_not_match_is_rejected_at_start()
    {
        WritePem("gateway-one");
        UseHttps();
        var other = Path.Combine(Settings.Root, "other.key");
        using (var key = RSA.Create(2048))
        {
            File.WriteAllText(other, key.ExportPkcs8PrivateKeyPem());
        }

        foreach (var keyFile in new[] { Path.Combine(Settings.Root, "missing.key"), other })
        {
            Settings.Values["Gateway:Listeners:PublicCertificateKey"] = keyFile;
            var error = Assert.Single(Settings.Errors(), e => e.Key == "Gateway:Listeners:PublicCertificate");
            Assert.Contains($"with key '{keyFile}' cannot be used", error.Problem);
        }
    }

    private void UseHttps()
    {
        Settings.Values["Gateway:Listeners:PublicUrl"] = PublicHttps.ToString().TrimEnd('/');
        Settings.Values["Gateway:Listeners:PublicCertificate"] = CertificateFile;
        Settings.Values["Gateway:Listeners:PublicCertificateKey"] = KeyFile;
    }

    /// <summary>A fresh self-signed certificate, written as an operator renews one: new files renamed over the old.</summary>
    private void WritePem(string commonName)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(CertificateFile + ".new", certificate.ExportCertificatePem());
        File.WriteAllText(KeyFile + ".new", key.ExportPkcs8PrivateKeyPem());
        File.Move(KeyFile + ".new", KeyFile, overwrite: true);
        File.Move(CertificateFile + ".new", CertificateFile, overwrite: true);
    }

    /// <summary>One request on a connection of its own (so a handshake of its own); the certificate the gateway presented and the body.</summary>
    private async Task<(string Subject, string Body)> GetOverNewConnectionAsync(string path)
    {
        string? subject = null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Self-signed on purpose: the test checks which certificate was presented, not a chain.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    subject = certificate?.Subject;
                    return true;
                },
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = PublicHttps };
        var body = await client.GetStringAsync(path);
        return (subject ?? "none", body);
    }
}
