using Gateway.Configuration;
using Gateway.Routing;

namespace Gateway.Tests.Routing;

public sealed class SiteSelectionDecisionTests
{
    private sealed record Instance(string Id, string Site);

    private static readonly Instance A1 = new("a1", "A");
    private static readonly Instance A2 = new("a2", "A");
    private static readonly Instance B1 = new("b1", "B");

    private static SiteSelectionVerdict<Instance> Choose(RequestKind kind, WritePolicy policy, params Instance[] healthy) =>
        SiteSelectionDecision.Decide(kind, healthy, i => i.Site, activeSite: "A", policy);

    [Fact]
    public void Reads_may_go_to_every_healthy_instance_of_both_sites()
    {
        var choice = Choose(RequestKind.Read, WritePolicy.Require, A1, B1);
        Assert.Equal([A1, B1], choice.Candidates);
    }

    [Theory]
    [InlineData(WritePolicy.Prefer)]
    [InlineData(WritePolicy.Require)]
    public void Writes_go_only_to_the_active_site_while_it_has_a_healthy_instance(WritePolicy policy)
    {
        var choice = Choose(RequestKind.Write, policy, A1, B1, A2);
        Assert.Equal([A1, A2], choice.Candidates);
        Assert.Equal("write: active site A", choice.Reason);
    }

    [Fact]
    public void Prefer_sends_writes_to_the_other_site_when_the_active_one_has_none()
    {
        var choice = Choose(RequestKind.Write, WritePolicy.Prefer, B1);
        Assert.Equal([B1], choice.Candidates);
        Assert.Contains("policy Prefer sends it to the other site", choice.Reason);
    }

    [Fact]
    public void Require_refuses_writes_when_the_active_site_has_none()
    {
        var choice = Choose(RequestKind.Write, WritePolicy.Require, B1);
        Assert.True(choice.IsRefusal);
        Assert.Contains("policy Require refuses the other site", choice.Reason);
    }

    [Theory]
    [InlineData(RequestKind.Read)]
    [InlineData(RequestKind.Write)]
    public void Nothing_healthy_is_a_refusal(RequestKind kind)
    {
        var choice = Choose(kind, WritePolicy.Prefer);
        Assert.True(choice.IsRefusal);
        Assert.Equal("no healthy service instance in any site", choice.Reason);
    }

    [Theory]
    [InlineData("GET", RequestKind.Read)]
    [InlineData("HEAD", RequestKind.Read)]
    [InlineData("OPTIONS", RequestKind.Read)]
    [InlineData("POST", RequestKind.Write)]
    [InlineData("PUT", RequestKind.Write)]
    [InlineData("PATCH", RequestKind.Write)]
    [InlineData("DELETE", RequestKind.Write)]
    [InlineData("PROPFIND", RequestKind.Write)]
    public void Unknown_methods_count_as_writes(string method, RequestKind expected) =>
        Assert.Equal(expected, RequestKinds.Of(method));
}
