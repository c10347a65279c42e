using System.Reflection;
using System.Reflection.Emit;

namespace Gateway.Tests.Architecture;

/// <summary>
/// Which top-level feature namespaces (Gateway.X) of an assembly use which, read by reflection: base types,
/// interfaces, fields, properties, method and constructor signatures, generic arguments, and every type, method and
/// field a method body names (its IL tokens), so a static call or a <c>new</c> counts as much as a parameter. Blind
/// to one kind of use: a constant (<c>const</c>) is copied into its user's IL as a value, so a namespace that uses
/// only another's constants looks independent of it; shared constants belong in Gateway.Model for that reason.
/// </summary>
public sealed class NamespaceGraph
{
    /// <summary>Namespaces that depend on each other, and one circle among them.</summary>
    public sealed record Cycle(IReadOnlyList<string> Members, IReadOnlyList<string> Path);

    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value);

    private readonly string root;

    /// <summary>Edge (from, to) -> the types of "from" that use a type of "to", for the failure message.</summary>
    public Dictionary<(string From, string To), SortedSet<string>> Edges { get; } = [];

    public NamespaceGraph(Assembly assembly, string root)
    {
        this.root = root;
        foreach (var type in assembly.GetTypes())
        {
            var from = FeatureOf(type);
            if (from is null)
            {
                continue;
            }

            foreach (var used in UsedTypes(type))
            {
                var to = FeatureOf(used);
                if (to is not null && to != from && used.Assembly == assembly)
                {
                    if (!Edges.TryGetValue((from, to), out var users))
                    {
                        Edges[(from, to)] = users = [];
                    }

                    users.Add(OuterName(type) + " -> " + OuterName(used));
                }
            }
        }
    }

    /// <summary>"Gateway.Database" for Gateway.Database.Failover.X; null for the root namespace (the composition root) and for other assemblies.</summary>
    public string? FeatureOf(Type type)
    {
        var name = type.Namespace;
        if (name is null || !name.StartsWith(root + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var end = name.IndexOf('.', root.Length + 1);
        return end < 0 ? name : name[..end];
    }

    /// <summary>Every set of namespaces that reach each other (strongly connected), with one closed path through it (A -> B -> A).</summary>
    public IReadOnlyList<Cycle> Cycles(IEnumerable<(string From, string To)> ignoredEdges)
    {
        var ignored = ignoredEdges.ToHashSet();
        var next = Edges.Keys.Where(edge => !ignored.Contains(edge))
            .GroupBy(edge => edge.From)
            .ToDictionary(group => group.Key, group => group.Select(edge => edge.To).Order(StringComparer.Ordinal).ToList());
        return StronglyConnected(next)
            .Where(component => component.Count > 1)
            .Select(component => new Cycle(component.Order(StringComparer.Ordinal).ToList(), ClosedPath(component, next)))
            .ToList();
    }

    private static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new List<Type>();
        if (type.BaseType is not null)
        {
            found.Add(type.BaseType);
        }

        found.AddRange(type.GetInterfaces());
        found.AddRange(type.GetFields(Declared).Select(field => field.FieldType));
        found.AddRange(type.GetProperties(Declared).Select(property => property.PropertyType));
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info)
            {
                found.Add(info.ReturnType);
            }

            found.AddRange(method.GetParameters().Select(parameter => parameter.ParameterType));
            found.AddRange(TypesNamedInBody(type, method));
        }

        return found.SelectMany(Unwrap).Distinct();
    }

    /// <summary>The type itself, its element type (arrays, by-ref, pointers) and its generic arguments, recursively.</summary>
    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType)
        {
            foreach (var inner in Unwrap(type.GetElementType()!))
            {
                yield return inner;
            }

            yield break;
        }

        if (type.IsGenericParameter)
        {
            yield break;
        }

        yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments().SelectMany(Unwrap))
            {
                yield return argument;
            }
        }
    }

    private static IEnumerable<Type> TypesNamedInBody(Type owner, MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArguments = owner.IsGenericTypeDefinition ? owner.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethodDefinition ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            var value = il[position] == 0xFE ? (short)(0xFE00 | il[position + 1]) : il[position];
            position += il[position] == 0xFE ? 2 : 1;
            var code = OpCodesByValue[value];
            var operandSize = OperandSize(code.OperandType, il, position);
            if (code.OperandType is OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, position), typeArguments, methodArguments);
                foreach (var named in TypesOf(member))
                {
                    yield return named;
                }
            }

            position += operandSize;
        }
    }

    private static IEnumerable<Type> TypesOf(MemberInfo? member) => member switch
    {
        Type type => [type],
        FieldInfo field => [field.DeclaringType!, field.FieldType],
        MethodInfo method => [method.DeclaringType!, method.ReturnType, .. method.GetGenericArguments(), .. method.GetParameters().Select(p => p.ParameterType)],
        ConstructorInfo constructor => [constructor.DeclaringType!],
        _ => [],
    };

    private static int OperandSize(OperandType operand, byte[] il, int position) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, position),
        _ => 4,
    };

    /// <summary>Tarjan's algorithm.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, List<string>> next)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<List<string>>();
        var nodes = next.Keys.Concat(next.Values.SelectMany(to => to)).Distinct().Order(StringComparer.Ordinal);

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var to in next.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(to))
                {
                    Visit(to);
                    low[node] = Math.Min(low[node], low[to]);
                }
                else if (onStack.Contains(to))
                {
                    low[node] = Math.Min(low[node], index[to]);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string popped;
                do
                {
                    popped = stack.Pop();
                    onStack.Remove(popped);
                    component.Add(popped);
                }
                while (popped != node);

                components.Add(component);
            }
        }

        foreach (var node in nodes.Where(node => !index.ContainsKey(node)))
        {
            Visit(node);
        }

        return components;
    }

    /// <summary>A shortest path from the component's first node back to itself, inside the component.</summary>
    private static List<string> ClosedPath(List<string> component, Dictionary<string, List<string>> next)
    {
        var members = component.ToHashSet();
        var start = component.Order(StringComparer.Ordinal).First();
        var cameFrom = new Dictionary<string, string>();
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var to in (next.GetValueOrDefault(node) ?? []).Where(members.Contains))
            {
                if (to == start)
                {
                    var path = new List<string> { start, node };
                    for (var at = node; at != start; at = cameFrom[at])
                    {
                        path.Add(cameFrom[at]);
                    }

                    path.Reverse();
                    return path;
                }

                if (cameFrom.TryAdd(to, node))
                {
                    queue.Enqueue(to);
                }
            }
        }

        return [start];
    }

    private static string OuterName(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type.Name;
    }
}
