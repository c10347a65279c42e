using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gateway.Database.Sessions;

/// <summary>
/// The cancel keys (BackendKeyData) the gateway gives clients of movable sessions in place of the node's: a key must
/// outlive the node connection it was issued for, and a client's CancelRequest is sent on to whichever node the
/// session runs on now, with that node's own key.
/// </summary>
public sealed class PgCancelKeys
{
    private readonly ConcurrentDictionary<int, (int Secret, PgMovableSession Session)> _keys = new();

    public (int ProcessId, int Secret) Issue(PgMovableSession session)
    {
        var secret = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        while (true)
        {
            var processId = RandomNumberGenerator.GetInt32(1, int.MaxValue);
            if (_keys.TryAdd(processId, (secret, session)))
            {
                return (processId, secret);
            }
        }
    }

    public void Revoke(int processId) => _keys.TryRemove(processId, out _);

    /// <summary>The session a cancel request names, if its secret matches (compared in constant time).</summary>
    public PgMovableSession? Find(int processId, int secret)
    {
        if (!_keys.TryGetValue(processId, out var key))
        {
            return null;
        }

        Span<byte> expected = stackalloc byte[4];
        Span<byte> given = stackalloc byte[4];
        BitConverter.TryWriteBytes(expected, key.Secret);
        BitConverter.TryWriteBytes(given, secret);
        return CryptographicOperations.FixedTimeEquals(expected, given) ? key.Session : null;
    }
}
