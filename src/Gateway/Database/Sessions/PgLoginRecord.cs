using System.Security.Cryptography;

namespace Gateway.Database.Sessions;

public enum PgLoginMethod
{
    /// <summary>Not logged in yet.</summary>
    Unknown,

    /// <summary>The node asked for nothing (trust): it will ask a new node's pg_hba.conf the same, given the same address.</summary>
    Trust,

    /// <summary>SCRAM-SHA-256: repeated with the ClientKey derived from the exchange and the role's verifier.</summary>
    Scram,

    /// <summary>MD5: repeated with the role's stored MD5 hash.</summary>
    Md5,

    /// <summary>A cleartext password, GSSAPI, SSPI, or SCRAM with channel binding: the gateway cannot log in again.</summary>
    Unrepeatable,
}

/// <summary>
/// How a client logged in, read from the authentication exchange the gateway relayed between the client and the
/// node (the node decides, as without the gateway), and what the gateway keeps to log the session in elsewhere: the
/// SCRAM exchange, and once derived the ClientKey and ServerKey. Only in memory; never logged; cleared when the
/// session ends.
/// </summary>
public sealed class PgLoginRecord : IDisposable
{
    private ClientResponse _expecting;
    private byte[]? _clientKey;
    private byte[]? _serverKey;

    public PgLoginMethod Method { get; private set; }

    public ScramTranscript Scram { get; } = new();

    /// <summary>An authentication request from the node; true when the client must answer it with a password message.</summary>
    public bool OnServerRequest(int code, ReadOnlySpan<byte> data)
    {
        _expecting = ClientResponse.None;
        switch (code)
        {
            case PgWire.Auth.Ok:
                if (Method == PgLoginMethod.Unknown)
                {
                    Method = PgLoginMethod.Trust;
                }

                return false;
            case PgWire.Auth.Md5Password:
                Method = PgLoginMethod.Md5;
                _expecting = ClientResponse.Other;
                return true;
            case PgWire.Auth.Sasl:
                Method = PgLoginMethod.Scram;
                _expecting = ClientResponse.SaslInitial;
                return true;
            case PgWire.Auth.SaslContinue:
                Scram.RecordServerFirst(data);
                _expecting = ClientResponse.SaslFinal;
                return true;
            case PgWire.Auth.SaslFinal:
                return false;
            case PgWire.Auth.CleartextPassword:
                Method = PgLoginMethod.Unrepeatable;
                _expecting = ClientResponse.Other;
                return true;
            default:
                // GSSAPI and SSPI (7, 8, 9) and whatever comes next.
                Method = PgLoginMethod.Unrepeatable;
                _expecting = ClientResponse.Other;
                return code is 7 or 8 or 9;
        }
    }

    /// <summary>The client's answer ('p' message body) to the last request.</summary>
    public void OnClientResponse(ReadOnlySpan<byte> body)
    {
        var recorded = _expecting switch
        {
            ClientResponse.SaslInitial => Scram.RecordClientFirst(body),
            ClientResponse.SaslFinal => Scram.RecordClientFinal(body),
            _ => true,
        };
        if (!recorded)
        {
            Method = PgLoginMethod.Unrepeatable;
        }
    }

    public bool HasScramKeys => _clientKey is not null;

    /// <summary>Derives and keeps the keys from the role's verifier; false when they do not match the recorded exchange.</summary>
    public bool DeriveScramKeys(ScramVerifier verifier)
    {
        if (Scram.DeriveClientKey(verifier) is not { } clientKey)
        {
            return false;
        }

        Clear();
        _clientKey = clientKey;
        _serverKey = verifier.ServerKey.ToArray();
        return true;
    }

    public ScramClient NewScramClient() =>
        _clientKey is { } clientKey && _serverKey is { } serverKey ? new ScramClient(clientKey, serverKey) : throw new InvalidOperationException("no SCRAM keys derived");

    public void Dispose() => Clear();

    private void Clear()
    {
        if (_clientKey is not null)
        {
            CryptographicOperations.ZeroMemory(_clientKey);
        }

        if (_serverKey is not null)
        {
            CryptographicOperations.ZeroMemory(_serverKey);
        }

        _clientKey = _serverKey = null;
    }

    public override string ToString() => $"login by {Method}";

    private enum ClientResponse
    {
        None,
        SaslInitial,
        SaslFinal,
        Other,
    }
}
