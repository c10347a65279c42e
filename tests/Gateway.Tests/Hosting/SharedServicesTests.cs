using Gateway.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Hosting;

public sealed class SharedServicesTests
{
    private sealed class Shared;

    private sealed class Owned;

    private sealed class FromLibrary;

    [Fact]
    public void The_admin_side_gets_the_very_instances_that_were_shared_and_nothing_else()
    {
        var services = new ServiceCollection()
            .AddSharedSingleton<Shared>()
            .AddSingleton<Owned>()
            .AddSingleton<FromLibrary>()
            .Share<FromLibrary>()
            .AddSharedSingleton(TimeProvider.System);
        using var owner = services.BuildServiceProvider();

        using var admin = new ServiceCollection().AddSharedFrom(owner).BuildServiceProvider();

        Assert.Equal([typeof(Shared), typeof(FromLibrary), typeof(TimeProvider)], owner.GetRequiredService<SharedServices>().Types);
        Assert.Same(owner.GetRequiredService<Shared>(), admin.GetRequiredService<Shared>());
        Assert.Same(owner.GetRequiredService<FromLibrary>(), admin.GetRequiredService<FromLibrary>());
        Assert.Same(TimeProvider.System, admin.GetRequiredService<TimeProvider>());
        Assert.Null(admin.GetService<Owned>());
    }

    [Fact]
    public void A_type_shared_twice_is_forwarded_once()
    {
        var services = new ServiceCollection().AddSharedSingleton<Shared>().Share<Shared>();
        using var owner = services.BuildServiceProvider();

        Assert.Single(owner.GetRequiredService<SharedServices>().Types);
        Assert.Single(services, descriptor => descriptor.ServiceType == typeof(SharedServices));
    }
}
