using System.Text.Json;

namespace Gateway.Cluster;

/// <summary>What the start-up check of the prefix's identity key concluded.</summary>
public enum IdentityVerdict
{
    /// <summary>The prefix is this cluster's, written with a schema this gateway knows.</summary>
    Matches,

    /// <summary>The prefix is empty: write the identity key (create-if-absent) and use it.</summary>
    Claim,

    /// <summary>The prefix belongs to something else or to a newer gateway: refuse to start.</summary>
    Refuse,
}

/// <summary>
/// The identity key /gateway/{Name}/meta: the cluster's name and the schema version of everything under the prefix.
/// A gateway checks it before reading or writing anything else, so that a typo in Name, two clusters pointed at one
/// prefix, or an older gateway meeting a newer gateway's state is refused instead of acted on.
/// </summary>
public static class ClusterIdentity
{
    public const string Key = "meta";

    /// <summary>The layout of the keys under the prefix this gateway reads and writes.</summary>
    public const int SchemaVersion = 1;

    private sealed record Meta(string Cluster, int Schema);

    public static string Encode(string clusterName) => JsonSerializer.Serialize(new Meta(clusterName, SchemaVersion), JsonOptions);

    /// <summary>Judges what the prefix holds: its identity key (null: absent) and whether any other key is there.</summary>
    public static (IdentityVerdict Verdict, string Sentence) Judge(string clusterName, string prefix, StoredKey? meta, bool otherKeysPresent)
    {
        if (meta is null)
        {
            return otherKeysPresent
                ? (IdentityVerdict.Refuse, $"etcd prefix {prefix} holds keys but no identity key {prefix}{Key}: it was written by something other than a gateway of cluster '{clusterName}'; refusing to use it")
                : (IdentityVerdict.Claim, $"etcd prefix {prefix} is empty: claiming it for cluster '{clusterName}' (schema {SchemaVersion})");
        }

        Meta? found;
        try
        {
            found = JsonSerializer.Deserialize<Meta>(meta.Value, JsonOptions);
        }
        catch (JsonException)
        {
            found = null;
        }

        if (found is null || string.IsNullOrEmpty(found.Cluster) || found.Schema < 1)
        {
            return (IdentityVerdict.Refuse, $"etcd key {prefix}{Key} does not hold a gateway cluster identity (cluster name and schema version): refusing to use prefix {prefix}");
        }

        if (found.Cluster != clusterName)
        {
            return (IdentityVerdict.Refuse, $"etcd prefix {prefix} holds the state of cluster '{found.Cluster}', not '{clusterName}': refusing to use it (check Gateway:Cluster:Name)");
        }

        if (found.Schema > SchemaVersion)
        {
            return (IdentityVerdict.Refuse, $"etcd prefix {prefix} was written with schema {found.Schema}, newer than this gateway's {SchemaVersion}: refusing to touch it (upgrade this gateway)");
        }

        return (IdentityVerdict.Matches, $"etcd prefix {prefix} is cluster '{clusterName}' (schema {found.Schema})");
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
