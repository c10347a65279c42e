using System.Reflection;
using Gateway.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Model;

public sealed class AlarmCatalogueTests
{
    /// <summary>Components name their alarm keys in constants ending in "Alarm" (Alarms' convention): each must be catalogued.</summary>
    [Fact]
    public void Every_alarm_key_constant_in_the_gateway_is_catalogued()
    {
        var constants = typeof(Alarms).Assembly.GetTypes()
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(field => field is { IsLiteral: true } && field.FieldType == typeof(string) && field.Name.EndsWith("Alarm", StringComparison.Ordinal))
            .Select(field => (Where: $"{field.DeclaringType!.Name}.{field.Name}", Key: (string)field.GetRawConstantValue()!))
            .ToList();

        Assert.NotEmpty(constants);
        Assert.All(constants, constant => Assert.True(AlarmCatalogue.Contains(constant.Key), $"{constant.Where} = \"{constant.Key}\" is not in AlarmCatalogue"));
    }

    [Fact]
    public void Keys_are_unique_lowercase_words_with_a_one_line_summary()
    {
        Assert.Equal(AlarmCatalogue.All.Count, AlarmCatalogue.All.Select(alarm => alarm.Key).Distinct().Count());
        Assert.All(AlarmCatalogue.All, alarm =>
        {
            Assert.Matches("^[a-z]+(-[a-z]+)+$", alarm.Key);
            Assert.False(string.IsNullOrWhiteSpace(alarm.Summary) || alarm.Summary.Contains('\n') || alarm.Summary.Contains('"'), alarm.Key);
        });
    }

    [Fact]
    public void Raising_or_clearing_a_key_not_in_the_catalogue_is_refused_naming_it()
    {
        var alarms = new Alarms(TimeProvider.System, NullLogger<Alarms>.Instance);

        var raise = Assert.Throws<ArgumentException>(() => alarms.Raise("database-on-fire", "smoke"));
        Assert.Throws<ArgumentException>(() => alarms.Clear("database-on-fire"));

        Assert.Contains("'database-on-fire'", raise.Message);
        Assert.Empty(alarms.Active);
    }

    [Fact]
    public void A_catalogued_alarm_is_raised_until_cleared()
    {
        var alarms = new Alarms(TimeProvider.System, NullLogger<Alarms>.Instance);

        alarms.Raise(AlarmCatalogue.FilestoreDeletesHeld, "12 deletes held");
        var raised = alarms.IsRaised(AlarmCatalogue.FilestoreDeletesHeld);
        alarms.Clear(AlarmCatalogue.FilestoreDeletesHeld);

        Assert.True(raised);
        Assert.False(alarms.IsRaised(AlarmCatalogue.FilestoreDeletesHeld));
    }
}
