using System.Security.Cryptography;
using System.Text;

namespace Gateway.Database.Sessions;

/// <summary>A role's SCRAM-SHA-256 verifier as pg_authid.rolpassword holds it: SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey.</summary>
public sealed record ScramVerifier(int Iterations, byte[] Salt, byte[] StoredKey, byte[] ServerKey)
{
    public static ScramVerifier? Parse(string? rolpassword)
    {
        var parts = rolpassword?.Split('$');
        if (parts is not ["SCRAM-SHA-256", var costs, var keys])
        {
            return null;
        }

        var (iterations, salt) = costs.Split(':') is [var i, var s] ? (i, s) : ("", "");
        var (stored, server) = keys.Split(':') is [var k, var v] ? (k, v) : ("", "");
        try
        {
            return int.TryParse(iterations, out var count) && count > 0
                ? new ScramVerifier(count, Convert.FromBase64String(salt), Convert.FromBase64String(stored), Convert.FromBase64String(server))
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The record prints no key material.</summary>
    public override string ToString() => $"SCRAM-SHA-256 verifier ({Iterations} iterations)";
}

/// <summary>
/// The SCRAM-SHA-256 exchange a client had with the server it first logged in to, as the gateway relayed it. With the
/// role's verifier it yields the client's ClientKey (what PgBouncer calls SCRAM pass-through): the proof the client
/// sent is its ClientKey XOR an HMAC keyed with the StoredKey, and the hash of the ClientKey is the StoredKey, which
/// checks it. The ClientKey then logs the session in to another server holding the same verifier, which a standby
/// does (pg_authid is replicated). Kept only in memory, never logged.
/// </summary>
public sealed class ScramTranscript
{
    public const string Mechanism = "SCRAM-SHA-256";

    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _clientFinalWithoutProof;
    private byte[]? _proof;

    /// <summary>True once the exchange was seen whole: the client's two messages and the server's challenge.</summary>
    public bool Complete => _clientFirstBare is not null && _serverFirst is not null && _clientFinalWithoutProof is not null && _proof is not null;

    /// <summary>SASLInitialResponse body: mechanism, length, client-first-message. False for another mechanism or channel binding.</summary>
    public bool RecordClientFirst(ReadOnlySpan<byte> body)
    {
        if (!PgWire.TryReadCString(body, out var mechanism, out var rest) || !mechanism.SequenceEqual(Encoding.ASCII.GetBytes(Mechanism)) || rest.Length < 4)
        {
            return false;
        }

        var message = Encoding.UTF8.GetString(rest[4..]);
        // gs2-header "n,," (or "y,,"): no channel binding, which the gateway, between two TLS-less legs, cannot carry.
        if (!(message.StartsWith("n,", StringComparison.Ordinal) || message.StartsWith("y,", StringComparison.Ordinal)))
        {
            return false;
        }

        var bareAt = message.IndexOf(',', 2);
        _clientFirstBare = bareAt < 0 ? null : message[(bareAt + 1)..];
        return _clientFirstBare is not null;
    }

    public void RecordServerFirst(ReadOnlySpan<byte> data) => _serverFirst = Encoding.UTF8.GetString(data);

    public bool RecordClientFinal(ReadOnlySpan<byte> body)
    {
        var message = Encoding.UTF8.GetString(body);
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
        {
            return false;
        }

        try
        {
            _proof = Convert.FromBase64String(message[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            return false;
        }

        _clientFinalWithoutProof = message[..proofAt];
        return true;
    }

    /// <summary>The client's ClientKey, or null when the verifier does not match the exchange (the password changed since).</summary>
    public byte[]? DeriveClientKey(ScramVerifier verifier)
    {
        if (!Complete || _proof!.Length != verifier.StoredKey.Length)
        {
            return null;
        }

        var signature = HMACSHA256.HashData(verifier.StoredKey, Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{_clientFinalWithoutProof}"));
        var clientKey = new byte[signature.Length];
        for (var i = 0; i < clientKey.Length; i++)
        {
            clientKey[i] = (byte)(_proof[i] ^ signature[i]);
        }

        if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), verifier.StoredKey))
        {
            return clientKey;
        }

        CryptographicOperations.ZeroMemory(clientKey);
        return null;
    }

    public override string ToString() => Complete ? "SCRAM-SHA-256 exchange (recorded)" : "SCRAM-SHA-256 exchange (incomplete)";
}

/// <summary>
/// The client side of a SCRAM-SHA-256 login made with a ClientKey instead of a password, as the gateway logs a
/// moved session in to its new server; the server's signature is checked with the verifier's ServerKey.
/// </summary>
public sealed class ScramClient(byte[] clientKey, byte[] serverKey, string? nonce = null)
{
    private readonly string _nonce = nonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
    private string? _authMessage;

    /// <summary>client-first-message, gs2 header included; PostgreSQL takes the user from the startup packet, so n= is empty.</summary>
    public byte[] ClientFirst() => Encoding.UTF8.GetBytes($"n,,{ClientFirstBare}");

    private string ClientFirstBare => $"n=,r={_nonce}";

    /// <summary>client-final-message for the server-first-message, or null when the server's nonce does not extend ours.</summary>
    public byte[]? ClientFinal(ReadOnlySpan<byte> serverFirstBytes)
    {
        var serverFirst = Encoding.UTF8.GetString(serverFirstBytes);
        var nonce = serverFirst.Split(',').FirstOrDefault(a => a.StartsWith("r=", StringComparison.Ordinal))?[2..];
        if (nonce is null || !nonce.StartsWith(_nonce, StringComparison.Ordinal) || nonce.Length == _nonce.Length)
        {
            return null;
        }

        var withoutProof = $"c=biws,r={nonce}";
        _authMessage = $"{ClientFirstBare},{serverFirst},{withoutProof}";
        var signature = HMACSHA256.HashData(SHA256.HashData(clientKey), Encoding.UTF8.GetBytes(_authMessage));
        var proof = new byte[signature.Length];
        for (var i = 0; i < proof.Length; i++)
        {
            proof[i] = (byte)(clientKey[i] ^ signature[i]);
        }

        return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}");
    }

    /// <summary>Checks server-final-message "v=signature": the server knew the verifier, so it is the node it claims to be.</summary>
    public bool VerifyServerFinal(ReadOnlySpan<byte> serverFinalBytes)
    {
        var serverFinal = Encoding.UTF8.GetString(serverFinalBytes);
        if (_authMessage is null || !serverFinal.StartsWith("v=", StringComparison.Ordinal))
        {
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(serverFinal.Split(',')[0][2..]);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(serverKey, Encoding.UTF8.GetBytes(_authMessage)));
    }
}

/// <summary>The answer to an MD5 password request from the role's stored hash (rolpassword "md5" + md5(password + user)).</summary>
public static class PgMd5
{
    public static string? Response(string? rolpassword, ReadOnlySpan<byte> salt)
    {
        if (rolpassword is not { Length: 35 } || !rolpassword.StartsWith("md5", StringComparison.Ordinal) || salt.Length != 4)
        {
            return null;
        }

#pragma warning disable CA5351 // MD5 is what the server's md5 method asks for; the gateway only answers it.
        var outer = MD5.HashData([.. Encoding.ASCII.GetBytes(rolpassword[3..]), .. salt]);
#pragma warning restore CA5351
        return "md5" + Convert.ToHexStringLower(outer);
    }
}
