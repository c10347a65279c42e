using Gateway.Configuration;
using Gateway.Routing.Reload;

namespace Gateway.Tests.Routing.Reload;

public sealed class ReloadDecisionTests
{
    private static readonly Dictionary<string, string> Running = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Gateway:ActiveSite"] = "A",
        ["Gateway:Sites:0:Id"] = "A",
        ["Gateway:Sites:0:Instances:0:Id"] = "a1",
        ["Gateway:Sites:0:Instances:0:Url"] = "http://127.0.0.1:5001",
        ["Gateway:Sites:1:Id"] = "B",
        ["Gateway:Sites:1:Instances:0:Id"] = "b1",
        ["Gateway:Sites:1:Instances:0:Url"] = "http://127.0.0.1:5002",
    };

    [Fact]
    public void The_same_settings_are_unchanged()
    {
        var verdict = ReloadDecision.Decide(Running, new Dictionary<string, string>(Running), [], Sites(("A", ["a1"]), ("B", ["b1"])));

        Assert.Equal(ReloadAction.Unchanged, verdict.Action);
    }

    [Fact]
    public void An_instance_added_removed_or_moved_is_applied_and_the_sentence_lists_every_sites_instances()
    {
        var changed = With(Running, ("Gateway:Sites:0:Instances:1:Id", "a2"), ("Gateway:Sites:0:Instances:1:Url", "http://127.0.0.1:5003"),
            ("Gateway:Sites:1:Instances:0:Url", "http://127.0.0.1:5004"));

        var verdict = ReloadDecision.Decide(Running, changed, [], Sites(("A", ["a1", "a2"]), ("B", ["b1"])));

        Assert.Equal(ReloadAction.Applied, verdict.Action);
        Assert.Equal("instance lists reloaded: site A: a1 http://a1, a2 http://a2; site B: b1 http://b1", verdict.Reason);
    }

    [Fact]
    public void A_change_beside_the_instance_lists_is_refused_naming_its_key()
    {
        var changed = With(Running, ("Gateway:ActiveSite", "B"), ("Gateway:Sites:0:Instances:1:Id", "a2"));

        var verdict = ReloadDecision.Decide(Running, changed, [], Sites(("A", ["a1", "a2"]), ("B", ["b1"])));

        Assert.Equal(ReloadAction.Refused, verdict.Action);
        Assert.Equal(
            "reload refused, the running configuration stays: Gateway:ActiveSite changed, which only a restart applies "
            + "(while running, only the instance lists Gateway:Sites:N:Instances are reloaded)",
            verdict.Reason);
    }

    [Fact]
    public void A_key_that_only_starts_like_an_instance_list_is_not_one()
    {
        var changed = With(Running, ("Gateway:Sites:0:InstancesExtra", "x"));

        var verdict = ReloadDecision.Decide(Running, changed, [], Sites(("A", ["a1"]), ("B", ["b1"])));

        Assert.Equal(ReloadAction.Refused, verdict.Action);
        Assert.Contains("Gateway:Sites:0:InstancesExtra changed", verdict.Reason);
    }

    [Fact]
    public void Many_changed_keys_are_named_five_and_counted()
    {
        var changed = With(Running, Enumerable.Range(0, 8).Select(i => ($"Gateway:Routing:Key{i}", "x")).ToArray());

        var verdict = ReloadDecision.Decide(Running, changed, [], Sites(("A", ["a1"]), ("B", ["b1"])));

        Assert.Contains("Gateway:Routing:Key0, Gateway:Routing:Key1, Gateway:Routing:Key2, Gateway:Routing:Key3, Gateway:Routing:Key4 and 3 more changed", verdict.Reason);
    }

    [Fact]
    public void An_invalid_file_is_refused_with_every_problem_named_even_when_only_instances_changed()
    {
        var changed = With(Running, ("Gateway:Sites:0:Instances:1:Id", "a1"), ("Gateway:Sites:0:Instances:1:Url", "http://127.0.0.1:5003"));
        ConfigurationError[] errors = [new("Gateway:Sites:0:Instances:1:Id", "duplicate instance id 'a1'")];

        var verdict = ReloadDecision.Decide(Running, changed, errors, changedSites: null);

        Assert.Equal(ReloadAction.Refused, verdict.Action);
        Assert.Equal(
            "reload refused, the running configuration stays: the changed file is invalid: Gateway:Sites:0:Instances:1:Id: duplicate instance id 'a1'",
            verdict.Reason);
    }

    private static Dictionary<string, string> With(Dictionary<string, string> settings, params (string Key, string Value)[] changes)
    {
        var copy = new Dictionary<string, string>(settings, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in changes)
        {
            copy[key] = value;
        }

        return copy;
    }

    private static List<SiteOptions> Sites(params (string Id, string[] Instances)[] sites) =>
        sites.Select(site => new SiteOptions
        {
            Id = site.Id,
            Instances = site.Instances.Select(id => new InstanceOptions { Id = id, Url = $"http://{id}" }).ToList(),
        }).ToList();
}
