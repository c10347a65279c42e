namespace Gateway.Routing;

/// <summary>
/// Picks the candidate with the fewest requests in flight. Ties are broken at random, so that light sequential
/// traffic (every count 0) still spreads over all instances instead of piling onto the first.
/// </summary>
public static class LeastLoaded
{
    public static T Pick<T>(IReadOnlyList<T> candidates, Func<T, int> load, Random random)
    {
        if (candidates.Count == 0)
        {
            throw new ArgumentException("no candidates to pick from", nameof(candidates));
        }

        var best = candidates[0];
        var bestLoad = load(best);
        var ties = 1;
        for (var i = 1; i < candidates.Count; i++)
        {
            var candidateLoad = load(candidates[i]);
            if (candidateLoad < bestLoad)
            {
                (best, bestLoad, ties) = (candidates[i], candidateLoad, 1);
            }
            else if (candidateLoad == bestLoad && random.Next(++ties) == 0)
            {
                // Reservoir sampling: each of the tied candidates ends up chosen with equal probability.
                best = candidates[i];
            }
        }

        return best;
    }
}
