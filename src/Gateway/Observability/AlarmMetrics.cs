using Gateway.Model;

namespace Gateway.Observability;

/// <summary>
/// <c>gateway_alarm{alarm}</c>: 1 while an alarm is raised, 0 otherwise, for every key of the
/// <see cref="AlarmCatalogue"/> from the first scrape on, so an alert rule on one key always has a series to judge.
/// </summary>
public sealed class AlarmMetrics
{
    public AlarmMetrics(GatewayMetrics metrics, Alarms alarms) =>
        metrics.ObservedGauge(
            "gateway_alarm",
            "1 while the alarm is raised, 0 otherwise; every alarm the gateway knows has a series. The admin status says why it is raised.",
            ["alarm"],
            () => AlarmCatalogue.All.Select(alarm => Sample.Of(alarms.IsRaised(alarm.Key) ? 1 : 0, alarm.Key)));
}
