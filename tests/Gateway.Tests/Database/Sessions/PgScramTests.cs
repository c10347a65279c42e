using System.Security.Cryptography;
using System.Text;
using Gateway.Database.Sessions;

namespace Gateway.Tests.Database.Sessions;

/// <summary>
/// SCRAM-SHA-256 as RFC 5802/7677 define it, the server side computed here from a password, so that the gateway's
/// pass-through arithmetic is checked against the standard, not against itself.
/// </summary>
public sealed class PgScramTests
{
    private const int Iterations = 4096;
    private static readonly byte[] Salt = Encoding.ASCII.GetBytes("pepper and salt!");

    private static (byte[] ClientKey, ScramVerifier Verifier) Role(string password)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Salt, Iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        var rolpassword = $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(Salt)}${Convert.ToBase64String(SHA256.HashData(clientKey))}:{Convert.ToBase64String(serverKey)}";
        return (clientKey, ScramVerifier.Parse(rolpassword)!);
    }

    /// <summary>A client with the password logging in to a server, as relayed: the transcript the gateway records.</summary>
    private static ScramTranscript RecordLogin(string password)
    {
        var (clientKey, verifier) = Role(password);
        var transcript = new ScramTranscript();
        var clientFirst = "n,,n=,r=rOprNGfwEbeRWgbNEkqO";
        Assert.True(transcript.RecordClientFirst([.. PgWire.CString(ScramTranscript.Mechanism), 0, 0, 0, (byte)clientFirst.Length, .. Encoding.ASCII.GetBytes(clientFirst)]));
        var serverFirst = $"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s={Convert.ToBase64String(verifier.Salt)},i={Iterations}";
        transcript.RecordServerFirst(Encoding.ASCII.GetBytes(serverFirst));
        var withoutProof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        var signature = HMACSHA256.HashData(verifier.StoredKey, Encoding.ASCII.GetBytes($"n=,r=rOprNGfwEbeRWgbNEkqO,{serverFirst},{withoutProof}"));
        var proof = clientKey.Zip(signature, (k, s) => (byte)(k ^ s)).ToArray();
        Assert.True(transcript.RecordClientFinal(Encoding.ASCII.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}")));
        return transcript;
    }

    [Fact]
    public void The_client_key_is_recovered_from_a_relayed_exchange_and_the_roles_verifier()
    {
        var transcript = RecordLogin("correct horse");

        Assert.Equal(Role("correct horse").ClientKey, transcript.DeriveClientKey(Role("correct horse").Verifier));
    }

    [Fact]
    public void A_verifier_of_another_password_yields_no_key()
    {
        var transcript = RecordLogin("correct horse");

        Assert.Null(transcript.DeriveClientKey(Role("battery staple").Verifier));
    }

    [Fact]
    public void The_gateway_logs_in_with_the_key_as_a_server_checking_the_standard_proof_accepts_and_the_server_is_checked_in_turn()
    {
        var (clientKey, verifier) = Role("correct horse");
        var client = new ScramClient(clientKey, verifier.ServerKey, nonce: "fyko+d2lbbFgONRv9qkxdawL");

        var clientFirst = Encoding.ASCII.GetString(client.ClientFirst());
        Assert.Equal("n,,n=,r=fyko+d2lbbFgONRv9qkxdawL", clientFirst);
        var serverFirst = $"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s={Convert.ToBase64String(Salt)},i={Iterations}";
        var clientFinal = Encoding.ASCII.GetString(client.ClientFinal(Encoding.ASCII.GetBytes(serverFirst))!);

        // The server's check (RFC 5802 section 3): ClientKey = proof XOR HMAC(StoredKey, AuthMessage), H(ClientKey) = StoredKey.
        var withoutProof = clientFinal[..clientFinal.LastIndexOf(",p=", StringComparison.Ordinal)];
        var authMessage = Encoding.ASCII.GetBytes($"{clientFirst[3..]},{serverFirst},{withoutProof}");
        var proof = Convert.FromBase64String(clientFinal[(clientFinal.LastIndexOf(",p=", StringComparison.Ordinal) + 3)..]);
        var recovered = proof.Zip(HMACSHA256.HashData(verifier.StoredKey, authMessage), (p, s) => (byte)(p ^ s)).ToArray();
        Assert.Equal(verifier.StoredKey, SHA256.HashData(recovered));

        Assert.True(client.VerifyServerFinal(Encoding.ASCII.GetBytes("v=" + Convert.ToBase64String(HMACSHA256.HashData(verifier.ServerKey, authMessage)))));
        Assert.False(client.VerifyServerFinal(Encoding.ASCII.GetBytes("v=" + Convert.ToBase64String(new byte[32]))));
    }

    [Fact]
    public void A_server_nonce_that_does_not_extend_the_clients_is_refused()
    {
        var (clientKey, verifier) = Role("x");
        var client = new ScramClient(clientKey, verifier.ServerKey, nonce: "abc");

        Assert.Null(client.ClientFinal("r=xyz123,s=c2FsdA==,i=4096"u8));
        Assert.Null(client.ClientFinal("r=abc,s=c2FsdA==,i=4096"u8));
    }

    [Fact]
    public void Channel_binding_and_other_mechanisms_are_not_recorded()
    {
        var transcript = new ScramTranscript();
        var plus = "p=tls-server-end-point,,n=,r=abc";

        Assert.False(transcript.RecordClientFirst([.. PgWire.CString("SCRAM-SHA-256-PLUS"), 0, 0, 0, (byte)plus.Length, .. Encoding.ASCII.GetBytes(plus)]));
        Assert.False(transcript.RecordClientFirst([.. PgWire.CString(ScramTranscript.Mechanism), 0, 0, 0, (byte)plus.Length, .. Encoding.ASCII.GetBytes(plus)]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("md5abc")]
    [InlineData("SCRAM-SHA-256$x:c2FsdA==$a:b")]
    [InlineData("SCRAM-SHA-256$4096:!!!$a:b")]
    public void Anything_but_a_scram_verifier_parses_to_nothing(string? rolpassword) => Assert.Null(ScramVerifier.Parse(rolpassword));

    [Fact]
    public void The_md5_answer_is_md5_of_the_stored_hash_and_the_salt()
    {
#pragma warning disable CA5351 // The server's md5 method, computed the way PostgreSQL's documentation gives it.
        var stored = "md5" + Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("secretalice")));
        byte[] salt = [1, 2, 3, 4];
        var expected = "md5" + Convert.ToHexStringLower(MD5.HashData([.. Encoding.ASCII.GetBytes(stored[3..]), .. salt]));
#pragma warning restore CA5351

        Assert.Equal(expected, PgMd5.Response(stored, salt));
        Assert.Null(PgMd5.Response("SCRAM-SHA-256$...", salt));
    }

    [Fact]
    public void Keys_are_never_printed()
    {
        var (_, verifier) = Role("x");

        Assert.DoesNotContain(Convert.ToBase64String(verifier.StoredKey), verifier.ToString());
        Assert.DoesNotContain("p=", RecordLogin("x").ToString());
    }
}
