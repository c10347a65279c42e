namespace Gateway.Model;

/// <summary>The durable state in memory, with every change saved before it is visible to anyone.</summary>
public sealed class GatewayState(IDurableStateStore store, DurableState initial)
{
    private readonly Lock _gate = new();
    private volatile DurableState _current = initial;

    public DurableState Current => _current;

    public static GatewayState LoadOrCreate(IDurableStateStore store, string configuredActiveSite, TimeProvider time)
    {
        var state = store.Load();
        if (state is null)
        {
            state = DurableState.Initial(configuredActiveSite, time.GetUtcNow());
            store.Save(null, state);
        }

        return new GatewayState(store, state);
    }

    public DurableState Change(Func<DurableState, DurableState> change)
    {
        lock (_gate)
        {
            var next = change(_current);
            store.Save(_current, next);
            _current = next;
            return next;
        }
    }

    /// <summary>Takes a state another gateway saved (cluster mode: read from the shared store), without saving it again.</summary>
    public void Adopt(DurableState saved)
    {
        lock (_gate)
        {
            _current = saved;
        }
    }
}
