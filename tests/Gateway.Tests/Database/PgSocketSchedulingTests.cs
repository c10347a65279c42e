using System.Net.Sockets;
using Gateway.Database;

namespace Gateway.Tests.Database;

public sealed class PgSocketSchedulingTests
{
    /// <summary>
    /// The per-socket setter is internal to the runtime: a .NET update that removes it turns this test red, while the
    /// gateway itself carries on through the thread pool (and says so at start).
    /// </summary>
    [Fact]
    public void This_runtime_lets_one_socket_complete_inline_while_the_others_keep_the_thread_pool()
    {
        using var endpoint = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var other = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var processWide = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";

        Assert.Equal(processWide, PgSocketScheduling.PrefersInline(endpoint));
        Assert.True(PgSocketScheduling.TryPreferInline(endpoint));

        Assert.True(PgSocketScheduling.PrefersInline(endpoint));
        Assert.Equal(processWide, PgSocketScheduling.PrefersInline(other));
    }
}
