using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>
/// Finds configuration keys that no option property takes, with their full path (Gateway:Routing:HealthChek), so a
/// misspelt key is reported instead of silently falling back to its default. The binder's own check names only the
/// property, not where it is.
/// </summary>
public static class UnknownKeys
{
    public static IEnumerable<string> Find(IConfigurationSection section, Type optionsType)
    {
        var properties = optionsType
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.CanWrite || IsList(property.PropertyType))
            .ToDictionary(property => property.Name, property => property.PropertyType, StringComparer.OrdinalIgnoreCase);

        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var propertyType))
            {
                yield return child.Path;
                continue;
            }

            foreach (var unknown in FindIn(child, propertyType))
            {
                yield return unknown;
            }
        }
    }

    private static IEnumerable<string> FindIn(IConfigurationSection section, Type type)
    {
        if (IsList(type))
        {
            var elementType = type.GetGenericArguments()[0];
            return section.GetChildren().SelectMany(element => IsLeaf(elementType) ? [] : Find(element, elementType));
        }

        return IsLeaf(type) ? [] : Find(section, type);
    }

    private static bool IsList(Type type) => type.IsGenericType && typeof(IList).IsAssignableFrom(type);

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);
}
