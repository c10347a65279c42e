using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tls;

/// <summary>The public listener's certificate read from its two PEM files, or why it could not be.</summary>
public sealed record PublicCertificate(X509Certificate2? Certificate, string? Error)
{
    public static PublicCertificate Load(string certificatePath, string keyPath)
    {
        try
        {
            var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            return certificate.HasPrivateKey
                ? new(certificate, null)
                : new(null, $"'{certificatePath}' has no private key in '{keyPath}'");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // The message names the file and the problem (missing, unreadable, not PEM, key not matching), never key material.
            return new(null, $"certificate '{certificatePath}' with key '{keyPath}' cannot be used: {e.Message}");
        }
    }
}
