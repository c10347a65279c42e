using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Broker.Deposits;

/// <summary>One page of the deposit listing: ids strictly greater than <paramref name="After"/>, at most <paramref name="Limit"/>.</summary>
internal sealed record PageRequest(Guid? After, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>Parses the raw query values; both are optional.</summary>
    public static bool TryParse(string? after, string? limit,
        [NotNullWhen(true)] out PageRequest? page, [NotNullWhen(false)] out string? problem)
    {
        page = null;
        Guid? afterId = null;
        if (after is not null)
        {
            if (!Guid.TryParse(after, out var parsedAfter))
            {
                problem = "after must be a deposit id (a GUID)";
                return false;
            }

            afterId = parsedAfter;
        }

        var pageSize = DefaultLimit;
        if (limit is not null
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            problem = $"limit must be a whole number from 1 to {MaxLimit}";
            return false;
        }

        page = new PageRequest(afterId, pageSize);
        problem = null;
        return true;
    }
}
