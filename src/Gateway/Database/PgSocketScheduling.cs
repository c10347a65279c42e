using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Gateway.Database;

/// <summary>Where the PostgreSQL endpoints run the code that follows a socket read or write: the <c>Database:EndpointScheduling</c> key.</summary>
public enum PgEndpointScheduling
{
    /// <summary>
    /// On the thread that saw the socket ready, as HAProxy does: a relayed message costs no hand-over to the thread
    /// pool in either direction. Less than half the CPU per round trip (bench/RESULTS.md); only for the endpoints'
    /// own sockets, whose code never blocks.
    /// </summary>
    Inline,

    /// <summary>Handed to the thread pool, as for every other socket of the process: .NET's default.</summary>
    ThreadPool,
}

/// <summary>
/// Asks the runtime to run one socket's completions on its event thread instead of queueing them to the thread pool.
/// The process-wide switch (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS) would also put the HTTP proxy, Npgsql and
/// etcd's gRPC on that thread, where one slow continuation stalls every socket; the runtime keeps a per-socket
/// setter for this (internal and marked experimental, preserved for reflection), reached here without reflection.
/// </summary>
public static class PgSocketScheduling
{
    private static int _unavailable;

    /// <summary>
    /// True when the socket now completes inline. False when this runtime has no such setter (a later .NET may
    /// remove it): the socket then works as any other, through the thread pool, which costs CPU and nothing else.
    /// </summary>
    public static bool TryPreferInline(Socket socket)
    {
        if (Volatile.Read(ref _unavailable) != 0)
        {
            return false;
        }

        try
        {
            SetPreferInlineCompletions(socket, true);
            return true;
        }
        catch (MissingMethodException)
        {
            Volatile.Write(ref _unavailable, 1);
            return false;
        }
    }

    /// <summary>Whether the socket completes inline (false where the runtime has no such property).</summary>
    public static bool PrefersInline(Socket socket)
    {
        try
        {
            return GetPreferInlineCompletions(socket.SafeHandle);
        }
        catch (MissingMethodException)
        {
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetPreferInlineCompletions(Socket socket, bool value);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_PreferInlineCompletions")]
    private static extern bool GetPreferInlineCompletions(SafeSocketHandle handle);
}
