using System.Diagnostics.CodeAnalysis;

namespace Broker.Deposits;

/// <summary>Rules for the client-chosen display name of a deposit.</summary>
internal static class DepositName
{
    /// <summary>
    /// Accepts 1 to 255 characters with no '/' and no control characters (NUL included): the name is only
    /// metadata, but clients commonly turn it back into a file name, where those would be a path or a terminal hazard.
    /// </summary>
    public static bool IsValid([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? problem)
    {
        problem = name switch
        {
            null => "name is required",
            { Length: 0 or > DepositLimits.MaxNameLength } => $"name must be 1 to {DepositLimits.MaxNameLength} characters long",
            _ when name.Contains('/') => "name must not contain '/'",
            _ when name.Any(char.IsControl) => "name must not contain control characters",
            _ => null,
        };
        return problem is null;
    }
}
