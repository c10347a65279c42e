using Gateway.Model;

namespace Gateway.Coordinator.Draining;

/// <summary>
/// Decides a drain or undrain. Pure: the current set, the target, and every configured instance with its site.
/// Repeating a request is not an error (draining a drained target answers "already drained"), so a retried call
/// after a lost answer is harmless. A drain that would leave no configured instance to route to is refused: that
/// is an outage, not maintenance, and an operator who wants it can stop the instances.
/// </summary>
public static class DrainDecision
{
    public static DrainVerdict Drain(DrainSet current, DrainTarget target, IReadOnlyList<(string Site, string Instance)> instances)
    {
        if (current.Contains(target))
        {
            return new(current, Changed: false, Refusal: null);
        }

        var next = current.With(target);
        return instances.Any(instance => !next.Excludes(instance.Site, instance.Instance))
            ? new(next, Changed: true, Refusal: null)
            : new(current, Changed: false, $"draining {target} would leave no instance to route to (drained now: {current}); undrain something first");
    }

    public static DrainVerdict Undrain(DrainSet current, DrainTarget target) =>
        current.Contains(target) ? new(current.Without(target), Changed: true, Refusal: null) : new(current, Changed: false, Refusal: null);
}
