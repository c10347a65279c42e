using Xunit.Abstractions;

namespace Gateway.Tests.Architecture;

/// <summary>
/// No two feature namespaces (Gateway.Routing, Gateway.Database, ...) depend on each other, directly or around a
/// circle: shared state lives in Gateway.Model, which depends on no feature (only on the configuration's types), and
/// the composition root (namespace Gateway itself) is the only place that knows them all. Each feature owns its options
/// section; GatewayOptions, which names them all, is the composition root's, and the graph does not count uses of the
/// root namespace: features that still take GatewayOptions whole rather than their own section are not seen here.
/// </summary>
public sealed class NamespaceCycleTests(ITestOutputHelper output)
{
    /// <summary>
    /// Dependencies tolerated for now, each on the named types only (a use of any other type of the namespace is
    /// still a dependency), with the reason it is not broken yet. Empty is the goal.
    /// </summary>
    private static readonly (string From, string To, string[] Types, string Reason)[] KnownExceptions = [];

    private readonly NamespaceGraph _graph = new(typeof(GatewayHost).Assembly, "Gateway");

    [Fact]
    public void No_feature_namespace_depends_on_one_that_depends_back_on_it()
    {
        foreach (var ((from, to), uses) in _graph.Edges.OrderBy(edge => edge.Key.From).ThenBy(edge => edge.Key.To))
        {
            output.WriteLine($"{from} -> {to}: {string.Join(", ", uses)}");
        }

        var cycles = _graph.Cycles(ToleratedEdges());

        Assert.True(cycles.Count == 0, "namespace cycles:\n" + string.Join("\n", cycles.Select(Describe)));
    }

    [Fact]
    public void Every_known_exception_is_still_needed()
    {
        var stale = KnownExceptions
            .Where(known => !_graph.Edges.TryGetValue((known.From, known.To), out var uses)
                            || known.Types.Any(type => !uses.Any(use => UsedType(use) == type)))
            .Select(known => $"{known.From} -> {known.To} ({string.Join(", ", known.Types)})")
            .ToList();

        Assert.True(stale.Count == 0, "known exceptions naming a dependency that no longer exists, remove them: " + string.Join("; ", stale));
    }

    [Fact]
    public void A_cycle_through_a_method_body_is_found_and_named()
    {
        // ArchitectureFixture.Left names a Right type only inside a method body; Right holds a Left in a field.
        var graph = new NamespaceGraph(typeof(NamespaceCycleTests).Assembly, "ArchitectureFixture");

        var cycle = Assert.Single(graph.Cycles([]));

        Assert.Equal(["ArchitectureFixture.Left", "ArchitectureFixture.Right", "ArchitectureFixture.Left"], cycle.Path);
        Assert.Contains("Caller -> Callee", graph.Edges[("ArchitectureFixture.Left", "ArchitectureFixture.Right")]);
        Assert.Empty(graph.Cycles([("ArchitectureFixture.Right", "ArchitectureFixture.Left")]));
    }

    /// <summary>The edges a known exception covers entirely: every use along them is of a type it names.</summary>
    private IEnumerable<(string From, string To)> ToleratedEdges() =>
        KnownExceptions
            .Where(known => _graph.Edges.TryGetValue((known.From, known.To), out var uses) && uses.All(use => known.Types.Contains(UsedType(use))))
            .Select(known => (known.From, known.To));

    private static string UsedType(string use) => use[(use.IndexOf(" -> ", StringComparison.Ordinal) + 4)..];

    private string Describe(NamespaceGraph.Cycle cycle) =>
        $"{string.Join(" -> ", cycle.Path)} (of the namespaces that all reach each other: {string.Join(", ", cycle.Members)})\n"
        + string.Join("\n", cycle.Path.Zip(cycle.Path.Skip(1)).Select(step =>
            $"  {step.First} -> {step.Second} because {string.Join(", ", _graph.Edges[(step.First, step.Second)].Take(5))}"));
}
