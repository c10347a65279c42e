using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Database.Nodes;
using Microsoft.Extensions.Options;

namespace Gateway.Database.Sessions;

/// <summary>A session could not be logged in to a node; <see cref="Retryable"/> when the node may simply not be up (yet).</summary>
public sealed class PgMoveException(string message, bool retryable, PgSessionCloseReason reason = PgSessionCloseReason.LoginRefused) : Exception(message)
{
    public bool Retryable { get; } = retryable;

    public PgSessionCloseReason Reason { get; } = reason;
}

/// <summary>
/// What movable sessions share: where the write endpoint goes now, the gateway's own connections to the nodes (for
/// the role verifiers a SCRAM login needs), the cancel keys, the metrics and the settings; and the login of a
/// session to a node as its client would (startup packet, then the node's authentication request answered from
/// what the session's first login left: nothing for trust, the ClientKey for SCRAM, the stored hash for MD5).
/// </summary>
public sealed partial class PgSessionMover(
    DatabaseTargets targets,
    DatabaseRoutingTable routing,
    NodeConnections nodes,
    PgSessionMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<PgSessionMover> logger)
{
    /// <summary>The verifier (or MD5 hash) of a role, read by the gateway's own superuser; pg_authid is replicated, so both nodes agree.</summary>
    public const string RoleSecretQuery = "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1";

    /// <summary>Client messages up to this size are read whole (the SQL scanned, a Parse kept); bigger ones stream through.</summary>
    public const int InspectLimit = 256 * 1024;

    public DatabaseOptions Options { get; } = options.Value.Database;

    public DatabaseTargets Targets => targets;

    public DatabaseRoutingTable Routing => routing;

    public PgSessionMetrics Metrics => metrics;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    public PgCancelKeys CancelKeys { get; } = new();

    /// <summary>Logs a session in to <paramref name="target"/> as its client did, up to the node's first ReadyForQuery.</summary>
    public async Task<PgServerLink> LoginAsync(DatabaseTarget target, PgStartupPacket startup, PgLoginRecord login, CancellationToken cancellation)
    {
        var link = new PgServerLink(await ConnectAsync(target, cancellation), target);
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            bound.CancelAfter(Options.StartupTimeout);
            await link.SendAsync(startup.Bytes, bound.Token);
            ScramClient? scram = null;
            while (true)
            {
                var message = await link.ReadAsync(bound.Token);
                switch (message.Type)
                {
                    case PgWire.Backend.Authentication:
                        scram = await AnswerAsync(link, message, startup, login, scram, bound.Token);
                        break;
                    case PgWire.Backend.BackendKeyData when message.Body.Length == 8:
                        link.BackendKey = (BinaryPrimitives.ReadInt32BigEndian(message.Body), BinaryPrimitives.ReadInt32BigEndian(message.Body.AsSpan(4)));
                        break;
                    case PgWire.Backend.ParameterStatus:
                        RecordParameter(link, message.Body);
                        break;
                    case PgWire.Backend.ErrorResponse:
                        throw Refused(target, message.Body);
                    case PgWire.Backend.ReadyForQuery:
                        return link;
                    case PgWire.Backend.NoticeResponse or PgWire.Backend.NegotiateProtocolVersion:
                        break;
                    default:
                        throw new PgProtocolException($"unexpected message '{(char)message.Type}' during the login");
                }
            }
        }
        catch (Exception e)
        {
            await link.DisposeAsync();
            throw e switch
            {
                PgMoveException => e,
                OperationCanceledException when cancellation.IsCancellationRequested => e,
                OperationCanceledException => new PgMoveException($"{target} did not finish the login within {Options.StartupTimeout.TotalSeconds:0.#} s", retryable: true),
                EndOfStreamException or IOException or SocketException => new PgMoveException($"{target} closed the connection during the login: {e.Message}", retryable: true),
                PgProtocolException => new PgMoveException($"{target} answered the login with something that is not PostgreSQL: {e.Message}", retryable: false, PgSessionCloseReason.ServerProtocolViolation),
                _ => e,
            };
        }
    }

    /// <summary>Sends a client's cancel request on to the node its session runs on now, with that node's key.</summary>
    public async Task CancelAsync(DatabaseTarget target, (int ProcessId, int Secret) key)
    {
        try
        {
            using var bound = new CancellationTokenSource(Options.ConnectTimeout);
            using var socket = await ConnectAsync(target, bound.Token);
            await socket.SendAsync(PgWire.CancelRequest(key.ProcessId, key.Secret), SocketFlags.None, bound.Token);
        }
        catch (Exception e) when (e is PgMoveException or SocketException or OperationCanceledException or IOException)
        {
            // A cancel is best effort, in PostgreSQL too.
        }
    }

    public void RecordParameter(PgServerLink link, ReadOnlySpan<byte> body)
    {
        if (PgWire.TryReadCString(body, out var name, out var rest) && PgWire.TryReadCString(rest, out var value, out _))
        {
            link.Parameters[Encoding.UTF8.GetString(name)] = Encoding.UTF8.GetString(value);
        }
    }

    private async Task<Socket> ConnectAsync(DatabaseTarget target, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(Options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            socket.Dispose();
            throw new PgMoveException($"{target} unreachable: {(e is SocketException ? e.Message : $"no answer within {Options.ConnectTimeout.TotalMilliseconds:0} ms")}", retryable: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Answers one authentication request of the node; returns the SCRAM exchange in progress, if any.</summary>
    private async Task<ScramClient?> AnswerAsync(PgServerLink link, PgMessage request, PgStartupPacket startup, PgLoginRecord login, ScramClient? scram, CancellationToken cancellation)
    {
        var data = request.Body.AsMemory(4);
        byte[] answer;
        switch (request.AuthCode)
        {
            case PgWire.Auth.Ok:
                return scram;
            case PgWire.Auth.Sasl:
                if (!Mechanisms(data.Span).Contains(ScramTranscript.Mechanism))
                {
                    throw new PgMoveException($"{link.Target} offers none of the SASL mechanisms the gateway can repeat", retryable: false, PgSessionCloseReason.Authentication);
                }

                await DeriveScramKeysAsync(link.Target, startup.User, login, cancellation);
                scram = login.NewScramClient();
                answer = PgWire.SaslInitialResponse(ScramTranscript.Mechanism, scram.ClientFirst());
                break;
            case PgWire.Auth.SaslContinue:
                answer = PgWire.SaslResponse(scram?.ClientFinal(data.Span)
                    ?? throw new PgMoveException($"{link.Target} sent a SCRAM challenge that does not continue the gateway's", retryable: false, PgSessionCloseReason.Authentication));
                break;
            case PgWire.Auth.SaslFinal:
                if (scram?.VerifyServerFinal(data.Span) != true)
                {
                    throw new PgMoveException($"{link.Target} did not prove that it knows the role's SCRAM verifier", retryable: false, PgSessionCloseReason.Authentication);
                }

                return scram;
            case PgWire.Auth.Md5Password:
                answer = PgWire.PasswordMessage(PgMd5.Response(await RoleSecretAsync(link.Target, startup.User, cancellation), data.Span)
                    ?? throw new PgMoveException($"{link.Target} asks for an MD5 password, and role \"{startup.User}\" has no MD5 hash the gateway can read", retryable: false, PgSessionCloseReason.Authentication));
                break;
            default:
                throw new PgMoveException($"{link.Target} asks for an authentication the gateway cannot repeat (request {request.AuthCode}; the session logged in by {login.Method})", retryable: false, PgSessionCloseReason.Authentication);
        }

        await link.SendAsync(answer, cancellation);
        return scram;
    }

    private async Task DeriveScramKeysAsync(DatabaseTarget target, string user, PgLoginRecord login, CancellationToken cancellation)
    {
        if (login.HasScramKeys)
        {
            return;
        }

        if (login.Method != PgLoginMethod.Scram || !login.Scram.Complete)
        {
            throw new PgMoveException($"{target} asks for a SCRAM password, and the session logged in by {login.Method}: the gateway has nothing to answer with", retryable: false, PgSessionCloseReason.Authentication);
        }

        var verifier = ScramVerifier.Parse(await RoleSecretAsync(target, user, cancellation))
            ?? throw new PgMoveException($"no SCRAM-SHA-256 verifier of role \"{user}\" is readable with {RoleSecretQuery}", retryable: false, PgSessionCloseReason.Authentication);
        if (!login.DeriveScramKeys(verifier))
        {
            throw new PgMoveException($"the password of role \"{user}\" changed since the session logged in", retryable: false, PgSessionCloseReason.Authentication);
        }
    }

    private async Task<string?> RoleSecretAsync(DatabaseTarget target, string user, CancellationToken cancellation)
    {
        try
        {
            await using var command = nodes.For(target.SiteId).CreateCommand(RoleSecretQuery);
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = user });
            return await command.ExecuteScalarAsync(cancellation) as string;
        }
        catch (Npgsql.NpgsqlException e)
        {
            throw new PgMoveException($"the gateway could not read role \"{user}\"'s verifier on {target}: {e.Message}", retryable: e.IsTransient);
        }
    }

    private static List<string> Mechanisms(ReadOnlySpan<byte> data)
    {
        var mechanisms = new List<string>();
        while (PgWire.TryReadCString(data, out var name, out data) && !name.IsEmpty)
        {
            mechanisms.Add(Encoding.UTF8.GetString(name));
        }

        return mechanisms;
    }

    /// <summary>57P03 (starting up, shutting down, in recovery) and too many connections pass; anything else refuses the session for good.</summary>
    private static PgMoveException Refused(DatabaseTarget target, byte[] body)
    {
        var fields = PgWire.Fields(body);
        var code = fields.GetValueOrDefault('C', "");
        var retryable = code is "57P03" or "53300" or "57P01" or "57P02" || code.StartsWith("08", StringComparison.Ordinal);
        return new PgMoveException($"{target} refused the session: {fields.GetValueOrDefault('M', "(no message)")} ({code})", retryable);
    }
}
