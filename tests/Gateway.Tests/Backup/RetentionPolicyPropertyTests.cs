using System.Globalization;
using CsCheck;
using Gateway.Backup;

namespace Gateway.Tests.Backup;

/// <summary>
/// Retention over generated backup histories and policies, against an oracle written from the rules' plain words
/// (the newest N; the newest of each of the D most recent days with a backup; likewise ISO weeks), rather than
/// from restic's walk that the policy follows. CsCheck shrinks a failure and prints its seed.
/// </summary>
public sealed class RetentionPolicyPropertyTests
{
    private static readonly DateTimeOffset Epoch = new(2025, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<RetentionPolicy> Policies =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 10], Gen.Int[0, 6])
            .Where(t => t.Item1 + t.Item2 + t.Item3 > 0)
            .Select(t => new RetentionPolicy(t.Item1, t.Item2, t.Item3));

    /// <summary>Up to 40 backups over 120 days (several a day sometimes), some building on an earlier one.</summary>
    private static readonly Gen<List<RetentionCandidate>> Histories =
        Gen.Select(Gen.Int[0, 120 * 24 * 60], Gen.Int[0, 100]).List[0, 40].Select(points =>
        {
            var candidates = new List<RetentionCandidate>();
            foreach (var (minute, dependency) in points.OrderBy(p => p.Item1))
            {
                var id = $"b{candidates.Count:D2}";
                var basis = dependency < 30 && candidates.Count > 0 ? candidates[dependency % candidates.Count].Id : null;
                candidates.Add(new RetentionCandidate(id, Epoch.AddMinutes(minute), basis));
            }

            return candidates;
        });

    [Fact]
    public void Every_backup_is_kept_or_removed_and_what_is_kept_is_exactly_what_the_rules_say_plus_what_it_builds_on()
    {
        Gen.Select(Histories, Policies).Sample((backups, policy) =>
        {
            var decision = policy.Decide(backups);
            var kept = decision.Keep.Select(k => k.Id).ToHashSet();
            Assert.Equal(backups.Count, kept.Count + decision.Remove.Count);
            Assert.Empty(kept.Intersect(decision.Remove));

            var byRules = Oracle(backups, policy);
            Assert.True(byRules.Count <= policy.KeepLast + policy.KeepDaily + policy.KeepWeekly);
            Assert.Equal(Closure(byRules, backups).Order(), kept.Order());
        });
    }

    [Fact]
    public void The_newest_backup_is_always_kept_and_every_kept_backup_keeps_its_whole_chain()
    {
        Gen.Select(Histories.Where(b => b.Count > 0), Policies).Sample((backups, policy) =>
        {
            var kept = policy.Decide(backups).Keep.Select(k => k.Id).ToHashSet();
            Assert.Contains(backups.MaxBy(b => (b.Time, b.Id))!.Id, kept);
            var byId = backups.ToDictionary(b => b.Id);
            foreach (var id in kept)
            {
                for (var parent = byId[id].DependsOn; parent is not null; parent = byId[parent].DependsOn)
                {
                    Assert.Contains(parent, kept);
                }
            }
        });
    }

    [Fact]
    public void Applying_the_policy_again_to_what_it_kept_removes_nothing()
    {
        Gen.Select(Histories, Policies).Sample((backups, policy) =>
        {
            var kept = policy.Decide(backups).Keep.Select(k => k.Id).ToHashSet();
            var again = policy.Decide(backups.Where(b => kept.Contains(b.Id)));
            Assert.Empty(again.Remove);
        });
    }

    [Fact]
    public void A_policy_that_keeps_nothing_is_refused_naming_its_values()
    {
        var problem = new RetentionPolicy(0, 0, 0).Problem();

        Assert.Equal("KeepLast 0, KeepDaily 0 and KeepWeekly 0 keep nothing: every backup would be deleted; keep at least one", problem);
        Assert.Throws<ArgumentException>(() => new RetentionPolicy(0, 0, 0).Decide([new("b", Epoch)]));
        Assert.Contains("KeepDaily -1", new RetentionPolicy(1, -1, 0).Problem());
    }

    [Fact]
    public void Two_backups_a_day_for_ten_days_keep_last_two_and_daily_five_keep_the_newest_of_the_last_five_days()
    {
        var backups = Enumerable.Range(0, 20).Select(i => new RetentionCandidate($"b{i:D2}", Epoch.AddDays(i / 2).AddHours(6 + 12 * (i % 2)))).ToList();

        var decision = new RetentionPolicy(2, 5, 0).Decide(backups);

        Assert.Equal(["b19", "b18", "b17", "b15", "b13", "b11"], decision.Keep.Select(k => k.Id));
        Assert.Equal(["last", "daily"], decision.Keep[0].Reasons);
        Assert.Equal(["last"], decision.Keep[1].Reasons);
    }

    /// <summary>The rules in their plain words, each on its own.</summary>
    private static HashSet<string> Oracle(List<RetentionCandidate> backups, RetentionPolicy policy)
    {
        var newestFirst = backups.OrderByDescending(b => b.Time).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
        var kept = newestFirst.Take(policy.KeepLast).Select(b => b.Id).ToHashSet();
        foreach (var (count, bucket) in new (int, Func<DateTimeOffset, string>)[]
                 {
                     (policy.KeepDaily, time => time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                     (policy.KeepWeekly, time => $"{ISOWeek.GetYear(time.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(time.UtcDateTime):D2}"),
                 })
        {
            foreach (var group in newestFirst.GroupBy(b => bucket(b.Time)).Take(count))
            {
                kept.Add(group.First().Id);
            }
        }

        return kept;
    }

    private static HashSet<string> Closure(HashSet<string> kept, List<RetentionCandidate> backups)
    {
        var byId = backups.ToDictionary(b => b.Id);
        var all = new HashSet<string>(kept);
        foreach (var id in kept)
        {
            for (var parent = byId[id].DependsOn; parent is not null && all.Add(parent); parent = byId[parent].DependsOn)
            {
            }
        }

        return all;
    }
}
