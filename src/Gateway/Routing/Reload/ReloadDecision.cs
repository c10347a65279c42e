using System.Text.RegularExpressions;
using Gateway.Configuration;

namespace Gateway.Routing.Reload;

public enum ReloadAction
{
    /// <summary>The file was touched but no setting changed.</summary>
    Unchanged,

    /// <summary>Only instance lists changed, and the whole file is valid: the new lists take effect now.</summary>
    Applied,

    /// <summary>Invalid, or a setting changed that only a restart applies: the running configuration stays as it was.</summary>
    Refused,
}

/// <summary>What a reload did, in the words that are both the log line and what the tests assert.</summary>
public sealed record ReloadVerdict(ReloadAction Action, string Reason);

/// <summary>
/// Decides what a changed configuration file may change while the gateway runs: the service instances of each site
/// (added, removed, moved to another URL), as the README promises, and nothing else. Listeners, database nodes, SAN
/// paths, the active site or the health settings are read once, by parts that hold state built from them, so a change
/// there is refused by name rather than half applied. A file that does not validate as a whole is refused too, so an
/// operator's typo can never take instances away.
/// </summary>
public static partial class ReloadDecision
{
    private const int KeysNamed = 5;

    /// <param name="running">The settings in force (flattened: Gateway:Sites:0:Id = A, ...).</param>
    /// <param name="changed">The settings the file now holds.</param>
    /// <param name="errors">What validating the changed settings found.</param>
    /// <param name="changedSites">The changed sites as bound, when they validated: what the sentence reports.</param>
    public static ReloadVerdict Decide(
        IReadOnlyDictionary<string, string> running,
        IReadOnlyDictionary<string, string> changed,
        IReadOnlyList<ConfigurationError> errors,
        IReadOnlyList<SiteOptions>? changedSites)
    {
        var differing = running.Keys.Union(changed.Keys, StringComparer.OrdinalIgnoreCase)
            .Where(key => running.GetValueOrDefault(key) != changed.GetValueOrDefault(key))
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (differing.Count == 0)
        {
            return new(ReloadAction.Unchanged, "configuration file changed, but no setting in it did");
        }

        if (errors.Count > 0 || changedSites is null)
        {
            return new(ReloadAction.Refused, $"reload refused, the running configuration stays: the changed file is invalid: {string.Join("; ", errors)}");
        }

        var restartOnly = differing.Where(key => !InstanceListKey().IsMatch(key)).ToList();
        if (restartOnly.Count > 0)
        {
            return new(ReloadAction.Refused,
                $"reload refused, the running configuration stays: {Names(restartOnly)} changed, which only a restart applies "
                + "(while running, only the instance lists Gateway:Sites:N:Instances are reloaded)");
        }

        return new(ReloadAction.Applied, $"instance lists reloaded: {string.Join("; ", changedSites.Select(Describe))}");
    }

    /// <summary>The Gateway section as key = value pairs, the form <see cref="Decide"/> compares.</summary>
    public static IReadOnlyDictionary<string, string> Flatten(IConfiguration configuration) =>
        configuration.GetSection(GatewayOptions.SectionName).AsEnumerable()
            .Where(pair => pair.Value is not null)
            .ToDictionary(pair => pair.Key, pair => pair.Value!, StringComparer.OrdinalIgnoreCase);

    private static string Names(List<string> keys) =>
        keys.Count <= KeysNamed ? string.Join(", ", keys) : $"{string.Join(", ", keys.Take(KeysNamed))} and {keys.Count - KeysNamed} more";

    // A valid file has at least one instance per site (Configuration/SiteRules).
    private static string Describe(SiteOptions site) =>
        $"site {site.Id}: {string.Join(", ", site.Instances.Select(instance => $"{instance.Id} {instance.Url}"))}";

    [GeneratedRegex(@"^Gateway:Sites:\d+:Instances(:|$)", RegexOptions.IgnoreCase)]
    private static partial Regex InstanceListKey();
}
