// Two namespaces that depend on each other, for the test of the namespace graph itself: Left only through a
// method body (a static call), Right through a field.
namespace ArchitectureFixture.Left
{
    public static class Caller
    {
        public static int Call() => ArchitectureFixture.Right.Callee.Answer();
    }
}

namespace ArchitectureFixture.Right
{
    public sealed class Callee
    {
        private readonly System.Type holder = typeof(Left.Caller);

        public static int Answer() => 42;

        public override string ToString() => holder.Name;
    }
}
