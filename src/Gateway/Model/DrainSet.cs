using System.Collections.Immutable;

namespace Gateway.Model;

/// <summary>What an operator drained: whole sites and single instances. Immutable; a change makes a new set.</summary>
public sealed record DrainSet(ImmutableSortedSet<string> Sites, ImmutableSortedSet<string> Instances)
{
    public static readonly DrainSet Empty = new([], []);

    public bool IsEmpty => Sites.IsEmpty && Instances.IsEmpty;

    /// <summary>An instance takes no new request while it or its whole site is drained.</summary>
    public bool Excludes(string siteId, string instanceId) => Sites.Contains(siteId) || Instances.Contains(instanceId);

    public bool Contains(DrainTarget target) => target.IsSite ? Sites.Contains(target.Id) : Instances.Contains(target.Id);

    public DrainSet With(DrainTarget target) =>
        target.IsSite ? this with { Sites = Sites.Add(target.Id) } : this with { Instances = Instances.Add(target.Id) };

    public DrainSet Without(DrainTarget target) =>
        target.IsSite ? this with { Sites = Sites.Remove(target.Id) } : this with { Instances = Instances.Remove(target.Id) };

    /// <summary>The candidates neither drained themselves nor in a drained site; the same list when nothing is drained.</summary>
    public IReadOnlyList<T> Routable<T>(IReadOnlyList<T> candidates, Func<T, string> siteOf, Func<T, string> idOf) =>
        IsEmpty ? candidates : candidates.Where(candidate => !Excludes(siteOf(candidate), idOf(candidate))).ToList();

    public override string ToString() =>
        IsEmpty ? "nothing" : string.Join(", ", Sites.Select(site => $"site {site}").Concat(Instances.Select(instance => $"instance {instance}")));
}

/// <summary>A site or one instance, as named in a drain or undrain request.</summary>
public sealed record DrainTarget(bool IsSite, string Id)
{
    public static DrainTarget Site(string id) => new(true, id);

    public static DrainTarget Instance(string id) => new(false, id);

    public override string ToString() => $"{(IsSite ? "site" : "instance")} {Id}";
}
