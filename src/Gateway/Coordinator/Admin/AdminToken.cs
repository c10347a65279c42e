using System.Security.Cryptography;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Coordinator.Admin;

/// <summary>
/// The admin API's bearer token, read once at start from GATEWAY_ADMIN_TOKEN or the token file. Compared in
/// constant time over SHA-256 digests, so neither the content nor the length leaks through timing. Never logged.
/// </summary>
public sealed class AdminToken
{
    private readonly byte[] _digest;

    private AdminToken(string token) => _digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static AdminToken Load(AdminOptions options) =>
        Environment.GetEnvironmentVariable(GatewayConfigurationLoader.AdminTokenVariable) is { Length: > 0 } fromEnvironment
            ? new AdminToken(fromEnvironment.Trim())
            : new AdminToken(File.ReadAllText(options.TokenFile).Trim());

    public bool Matches(string? presented) =>
        presented is not null
        && CryptographicOperations.FixedTimeEquals(_digest, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>The token from an "Authorization: Bearer ..." header, or null.</summary>
    public static string? FromAuthorizationHeader(string? header) =>
        header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
}
