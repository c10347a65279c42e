using Gateway.Coordinator.Draining;
using Gateway.Model;

namespace Gateway.Tests.Coordinator.Draining;

public sealed class DrainDecisionTests
{
    private static readonly (string Site, string Instance)[] Instances = [("A", "a1"), ("A", "a2"), ("B", "b1")];

    [Fact]
    public void Draining_an_instance_excludes_it_and_nothing_else()
    {
        var outcome = DrainDecision.Drain(DrainSet.Empty, DrainTarget.Instance("a1"), Instances);

        Assert.True(outcome.Changed);
        Assert.Equal([true, false, false], Instances.Select(i => outcome.Next.Excludes(i.Site, i.Instance)));
    }

    [Fact]
    public void Draining_a_site_excludes_every_instance_of_it()
    {
        var outcome = DrainDecision.Drain(DrainSet.Empty, DrainTarget.Site("A"), Instances);

        Assert.Equal([true, true, false], Instances.Select(i => outcome.Next.Excludes(i.Site, i.Instance)));
    }

    [Fact]
    public void Draining_a_drained_target_again_changes_nothing_and_is_not_refused()
    {
        var drained = DrainDecision.Drain(DrainSet.Empty, DrainTarget.Site("A"), Instances).Next;

        var again = DrainDecision.Drain(drained, DrainTarget.Site("A"), Instances);

        Assert.Equal((false, false), (again.Changed, again.IsRefused));
        Assert.Same(drained, again.Next);
    }

    [Fact]
    public void A_drain_leaving_no_instance_to_route_to_is_refused_and_changes_nothing()
    {
        var siteA = DrainDecision.Drain(DrainSet.Empty, DrainTarget.Site("A"), Instances).Next;

        var outcome = DrainDecision.Drain(siteA, DrainTarget.Instance("b1"), Instances);

        Assert.True(outcome.IsRefused);
        Assert.Contains("would leave no instance to route to (drained now: site A)", outcome.Refusal);
        Assert.Same(siteA, outcome.Next);
    }

    [Fact]
    public void Undraining_a_site_keeps_the_instances_drained_on_their_own()
    {
        var drained = DrainDecision.Drain(DrainSet.Empty, DrainTarget.Instance("a1"), Instances).Next;
        drained = DrainDecision.Drain(drained, DrainTarget.Site("A"), Instances).Next;

        var outcome = DrainDecision.Undrain(drained, DrainTarget.Site("A"));

        Assert.True(outcome.Changed);
        Assert.Equal([true, false, false], Instances.Select(i => outcome.Next.Excludes(i.Site, i.Instance)));
    }

    [Fact]
    public void Undraining_what_is_not_drained_changes_nothing()
    {
        var outcome = DrainDecision.Undrain(DrainSet.Empty, DrainTarget.Instance("a1"));

        Assert.Equal((false, false), (outcome.Changed, outcome.IsRefused));
    }

    [Fact]
    public void Routable_keeps_the_order_of_the_candidates_not_drained()
    {
        var drained = DrainDecision.Drain(DrainSet.Empty, DrainTarget.Instance("a2"), Instances).Next;

        Assert.Equal(["a1", "b1"], drained.Routable(Instances, i => i.Site, i => i.Instance).Select(i => i.Instance));
    }
}
