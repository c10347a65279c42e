namespace Gateway.Hosting;

/// <summary>
/// The singletons the public host owns and the admin host acts on, named by each feature's <c>AddGatewayX</c> where it
/// registers them. The admin host forwards exactly these, as the very same instances: forwarding every singleton
/// instead would also copy what each host must own itself (its lifetime, server, logging, routing).
/// </summary>
public sealed class SharedServices
{
    private readonly List<Type> _types = [];

    /// <summary>In the order the features named them, each once.</summary>
    public IReadOnlyList<Type> Types => _types;

    internal void Add(Type type)
    {
        if (!_types.Contains(type))
        {
            _types.Add(type);
        }
    }
}

public static class SharedServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="T"/> as a singleton that the admin host shares.</summary>
    public static IServiceCollection AddSharedSingleton<T>(this IServiceCollection services)
        where T : class => services.AddSingleton<T>().Share<T>();

    /// <summary>Registers <paramref name="instance"/> as a singleton that the admin host shares.</summary>
    public static IServiceCollection AddSharedSingleton<T>(this IServiceCollection services, T instance)
        where T : class => services.AddSingleton(instance).Share<T>();

    /// <summary>Registers a singleton made by <paramref name="create"/> that the admin host shares.</summary>
    public static IServiceCollection AddSharedSingleton<T>(this IServiceCollection services, Func<IServiceProvider, T> create)
        where T : class => services.AddSingleton(create).Share<T>();

    /// <summary>Shares a singleton registered elsewhere (by a library, or by another overload).</summary>
    public static IServiceCollection Share<T>(this IServiceCollection services)
    {
        Registry(services).Add(typeof(T));
        return services;
    }

    /// <summary>
    /// In the admin host: every type the public host's features shared, resolved now from <paramref name="shared"/>
    /// (so each exists, and each metric series with it, before either host starts) and registered as that instance.
    /// </summary>
    public static IServiceCollection AddSharedFrom(this IServiceCollection adminServices, IServiceProvider shared)
    {
        foreach (var type in shared.GetRequiredService<SharedServices>().Types)
        {
            adminServices.AddSingleton(type, shared.GetRequiredService(type));
        }

        return adminServices;
    }

    private static SharedServices Registry(IServiceCollection services)
    {
        if (services.FirstOrDefault(descriptor => descriptor.ServiceType == typeof(SharedServices))?.ImplementationInstance is SharedServices registry)
        {
            return registry;
        }

        var created = new SharedServices();
        services.AddSingleton(created);
        return created;
    }
}
