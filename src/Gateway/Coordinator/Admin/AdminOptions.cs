using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Admin;

/// <summary>The admin API: the <c>Gateway:Admin</c> section.</summary>
public sealed class AdminOptions
{
    /// <summary>File holding the bearer token for the admin API. The environment variable GATEWAY_ADMIN_TOKEN takes precedence.</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>Wrong or missing tokens one remote address may present within FailedAuthWindow before it gets 429 for the rest of the window.</summary>
    [AtLeast(1)]
    public int MaxFailedAuthAttempts { get; set; } = 10;

    /// <summary>The window failed attempts are counted in, starting at an address's first failure; a locked-out address waits for its end.</summary>
    [Positive]
    public TimeSpan FailedAuthWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Admin requests are small JSON documents; a bigger body is refused with 413 before it is parsed.</summary>
    [AtLeast(1)]
    public int MaxRequestBodySize { get; set; } = 16 * 1024;
}

/// <summary>The per-field rules of <see cref="AdminOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
}

/// <summary>The section's file-system rule: the token file must exist and hold something, unless the token comes from the environment.</summary>
public sealed class AdminOptionsRules(bool tokenFromEnvironment) : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var key = $"{name ?? "Gateway:Admin"}:TokenFile";
        var errors = new List<ConfigurationError>();
        if (tokenFromEnvironment || PathRules.SecretFilePath(options.TokenFile, key, errors) is not { } path)
        {
            return errors.ToResult();
        }

        if (!File.Exists(path))
        {
            errors.Add(new(key, $"token file '{path}' does not exist (or set GATEWAY_ADMIN_TOKEN)"));
        }
        else if (new FileInfo(path).Length == 0)
        {
            errors.Add(new(key, $"token file '{path}' is empty"));
        }

        return errors.ToResult();
    }
}
