using System.Globalization;

namespace Gateway.Observability;

/// <summary>
/// The tags of one series, kept as the instrument received them (key and value text) with their Prometheus label
/// names. Equal to any tag list holding the same pairs in any order, so two call sites that order their tags
/// differently still add to one series.
/// </summary>
public sealed class LabelSet
{
    private readonly (string Key, string Value)[] _tags;
    private readonly int _hash;

    private LabelSet((string Key, string Value)[] tags, int hash)
    {
        _tags = tags;
        _hash = hash;
        Labels = tags.Select(tag => new Label(PrometheusNames.Label(tag.Key), tag.Value)).ToList();
    }

    public IReadOnlyList<Label> Labels { get; }

    public static LabelSet From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copied = new (string Key, string Value)[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            copied[i] = (tags[i].Key, Text(tags[i].Value));
        }

        return new LabelSet(copied, HashOf(tags));
    }

    /// <summary>Order-independent, so it agrees with <see cref="Matches"/>.</summary>
    public static int HashOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var hash = tags.Length;
        foreach (var tag in tags)
        {
            hash += HashCode.Combine(tag.Key, Text(tag.Value));
        }

        return hash;
    }

    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != _tags.Length)
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (!Contains(tag.Key, tag.Value))
            {
                return false;
            }
        }

        return true;
    }

    public override int GetHashCode() => _hash;

    public override bool Equals(object? obj) =>
        obj is LabelSet other && other._hash == _hash && other._tags.Length == _tags.Length && other._tags.All(tag => Contains(tag.Key, tag.Value));

    private bool Contains(string key, object? value)
    {
        foreach (var tag in _tags)
        {
            if (tag.Key == key)
            {
                return value is string text ? tag.Value == text : tag.Value == Text(value);
            }
        }

        return false;
    }

    /// <summary>Strings pass through untouched (no allocation on the hot path); other values are formatted invariantly.</summary>
    private static string Text(object? value) => value switch
    {
        string text => text,
        null => "",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>Lets a series dictionary be searched with the tag span a measurement arrives with, without building a key.</summary>
public sealed class LabelSetComparer : IEqualityComparer<LabelSet>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, LabelSet>
{
    public static readonly LabelSetComparer Instance = new();

    public bool Equals(LabelSet? x, LabelSet? y) => x is null ? y is null : x.Equals(y);

    public int GetHashCode(LabelSet obj) => obj.GetHashCode();

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, LabelSet other) => other.Matches(alternate);

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => LabelSet.HashOf(alternate);

    public LabelSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => LabelSet.From(alternate);
}
