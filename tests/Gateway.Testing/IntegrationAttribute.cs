using Xunit.Abstractions;
using Xunit.Sdk;

// In xunit's namespace (as dotnet/arcade's OuterLoop is) so every test file, which imports Xunit, can write
// [Integration] without one more using line.
namespace Xunit;

/// <summary>
/// Marks a test class (or method) that needs a real part: a PostgreSQL server, a broker or gateway process, a real
/// listener (gateway, backend, stand-in API), Prometheus or promtool, etcd, a network namespace, a mount, a system
/// setting, or many seconds of load on the real file system (stress and property runs). Its tests carry the trait
/// Kind=Integration, which <c>tests/run.sh --fast</c> leaves out. A test that starts a real part without this mark fails
/// the fast run (see <see cref="Gateway.Testing.RealParts"/>) rather than slipping into it.
/// </summary>
[TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class IntegrationAttribute : Attribute, ITraitAttribute;

/// <summary>
/// Gives every test under <see cref="IntegrationAttribute"/> the trait Kind=Integration. A fact attribute that skips
/// where a real part is missing (etcd, root, a tmpfs) names this discoverer too, so its tests are marked by it.
/// </summary>
public sealed class IntegrationTraitDiscoverer : ITraitDiscoverer
{
    public const string TypeName = "Xunit.IntegrationTraitDiscoverer";
    public const string AssemblyName = "Gateway.Testing";
    public const string Name = "Kind";
    public const string Value = "Integration";

    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute) => [new(Name, Value)];
}
