namespace Gateway.Model;

/// <summary>The durable state in memory, with every change saved to disk before it is visible to anyone.</summary>
public sealed class GatewayState(DurableStateStore store, DurableState initial)
{
    private readonly Lock _gate = new();
    private volatile DurableState _current = initial;

    public DurableState Current => _current;

    public static GatewayState LoadOrCreate(DurableStateStore store, string configuredActiveSite, TimeProvider time)
    {
        var state = store.Load();
        if (state is null)
        {
            state = DurableState.Initial(configuredActiveSite, time.GetUtcNow());
            store.Save(state);
        }

        return new GatewayState(store, state);
    }

    public DurableState Change(Func<DurableState, DurableState> change)
    {
        lock (_gate)
        {
            var next = change(_current);
            store.Save(next);
            _current = next;
            return next;
        }
    }
}
