using System.Diagnostics.Metrics;
using System.Numerics;

namespace Gateway.Observability;

/// <summary>
/// Listens to every instrument of this host's <see cref="GatewayTelemetry.MeterName"/> meter (<see cref="Meter"/>)
/// and keeps its series for <c>/metrics</c>. Synchronous instruments are aggregated as they are recorded, without a
/// lock; observable ones are asked for their values at each scrape.
/// </summary>
public sealed partial class MetricsCollector : IDisposable
{
    private readonly IMeterFactory _meterFactory;
    private readonly ILogger<MetricsCollector> _logger;
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<Instrument, MetricFamily> _families = [];

    public MetricsCollector(IMeterFactory meterFactory, ILogger<MetricsCollector> logger)
    {
        _meterFactory = meterFactory;
        _logger = logger;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.MeasurementsCompleted = OnMeasurementsCompleted;
        ListenTo<byte>();
        ListenTo<short>();
        ListenTo<int>();
        ListenTo<long>();
        ListenTo<float>();
        ListenTo<double>();
        ListenTo<decimal>();
        _listener.Start();
        Meter = meterFactory.Create(GatewayTelemetry.MeterName);
    }

    /// <summary>
    /// The meter to create gateway instruments on. Handed out by the collector so that it is listening before
    /// any instrument records: a measurement nobody listens to is lost.
    /// </summary>
    public Meter Meter { get; }

    /// <summary>The current value of every series, observable instruments asked now. One scrape at a time.</summary>
    public IReadOnlyList<MetricSnapshot> Collect()
    {
        lock (_lock)
        {
            foreach (var family in _families.Values.Where(family => family.IsObservable))
            {
                family.ForgetObservations();
            }

            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException failures)
            {
                // The runtime asks every instrument before throwing: one failing gauge leaves only its own series out.
                foreach (var failure in failures.InnerExceptions)
                {
                    Log.ObservationFailed(_logger, failure);
                }
            }

            return _families.Values.Select(family => family.Snapshot()).Where(snapshot => snapshot.Series.Count > 0).ToList();
        }
    }

    public void Dispose() => _listener.Dispose();

    private void ListenTo<T>()
        where T : struct, INumberBase<T> =>
        _listener.SetMeasurementEventCallback<T>(static (_, measurement, tags, state) => ((MetricFamily)state!).Record(double.CreateTruncating(measurement), tags));

    /// <summary>Meters from this host's factory only: a second gateway in the same process (tests) has its own.</summary>
    private bool IsGatewayMeter(Meter meter) => meter.Name == GatewayTelemetry.MeterName && ReferenceEquals(meter.Scope, _meterFactory);

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!IsGatewayMeter(instrument.Meter))
        {
            return;
        }

        if (MetricFamily.For(instrument) is not { } family)
        {
            Log.UnsupportedInstrument(_logger, instrument.Name, instrument.GetType().Name);
            return;
        }

        lock (_lock)
        {
            // Two instruments under one Prometheus name would make the exposition invalid: the first one keeps it.
            if (_families.Values.Any(existing => existing.Name == family.Name))
            {
                Log.DuplicateName(_logger, instrument.Name, family.Name);
                return;
            }

            _families.Add(instrument, family);
        }

        listener.EnableMeasurementEvents(instrument, family);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        lock (_lock)
        {
            _families.Remove(instrument);
        }
    }
}
