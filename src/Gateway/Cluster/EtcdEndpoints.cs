using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Grpc.Core;
using Grpc.Net.Client;

namespace Gateway.Cluster;

/// <summary>What one attempt of a call gets: the member's client, the headers every call carries, and its own time limit.</summary>
internal readonly record struct EtcdAttempt(EtcdClient Client, string Endpoint, Metadata Headers, DateTime Deadline, CancellationToken Cancellation);

/// <summary>
/// One dotnet-etcd client per etcd member, used one at a time: a call goes to the member that last answered and, when
/// that one fails or stays silent for RequestTimeout, to the next, as Patroni's etcd client does. A single balanced
/// channel would keep sending every third call to a frozen member (its socket still accepts), and a lease renewal
/// must not wait on it.
/// </summary>
internal sealed class EtcdEndpoints : IDisposable
{
    /// <summary>
    /// etcd's "require leader" header: a member that has lost its leader (cut off from the majority) answers at once
    /// "no leader" instead of holding the call, and ends watch streams, so the client moves on to a member that has one.
    /// </summary>
    private static readonly Metadata RequireLeader = new() { { "hasleader", "true" } };

    private readonly (string Url, EtcdClient Client)[] _members;
    private readonly TimeSpan _requestTimeout;
    private long _failedRequests;
    private readonly TimeProvider _time;
    private int _preferred;

    public EtcdEndpoints(EtcdOptions options, TimeProvider time)
    {
        _requestTimeout = options.RequestTimeout;
        _time = time;
        var password = options.PasswordFile.Length > 0 ? EtcdCredentials.ReadPassword(options.PasswordFile) : null;
        _members = [.. options.Endpoints.Select(url => (url.TrimEnd('/'), CreateClient(url.TrimEnd('/'), options, password)))];
    }

    public IReadOnlyList<string> Urls => [.. _members.Select(m => m.Url)];

    /// <summary>The member calls go to first (the last one that answered).</summary>
    public string Preferred => _members[Volatile.Read(ref _preferred)].Url;

    /// <summary>
    /// Runs <paramref name="call"/> on the preferred member; on a failure that says nothing about the request itself
    /// (no answer in time, connection lost, member without a leader) moves on to the next member, until every member
    /// was tried once or <paramref name="budget"/> is spent. <paramref name="resendable"/> false: a request that may have
    /// reached a member is not sent again (a transaction), only one that surely did not (connection refused); it may
    /// take the whole budget (by default RequestTimeout times the number of members, at least three times).
    /// </summary>
    public async Task<T> CallAsync<T>(string operation, Func<EtcdAttempt, Task<T>> call, bool resendable, TimeSpan? budget, CancellationToken cancellation)
    {
        var started = _time.GetTimestamp();
        var limit = budget ?? _requestTimeout * Math.Max(_members.Length, 3);
        var failures = new List<string>();
        Exception? last = null;
        var first = Volatile.Read(ref _preferred);
        for (var n = 0; n < _members.Length; n++)
        {
            var remaining = limit - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            var index = (first + n) % _members.Length;
            var (url, client) = _members[index];
            // A request that is not sent twice gets the whole budget on its one member: a slow disk delays every
            // member's writes alike, and giving up early would only turn a success into an unknown outcome.
            var timeout = !resendable || remaining < _requestTimeout ? remaining : _requestTimeout;
            using var attemptLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            attemptLimit.CancelAfter(timeout);
            try
            {
                var result = await call(new(client, url, RequireLeader, DateTime.UtcNow + timeout, attemptLimit.Token));
                Volatile.Write(ref _preferred, index);
                return result;
            }
            catch (Exception e) when (!cancellation.IsCancellationRequested && Classify(e, timeout) is { } failure)
            {
                if (failure.Refusal is { } refusal)
                {
                    throw new EtcdRefusedException(operation, url, refusal, e);
                }

                failures.Add($"{url}: {failure.Description}");
                last = e;
                Failed(index);
                if (!resendable && !failure.SurelyNotSent)
                {
                    break;
                }
            }
        }

        if (failures.Count == 0)
        {
            failures.Add($"no time left to try ({limit.TotalMilliseconds:0} ms)");
        }

        throw new EtcdUnavailableException(operation, failures, last);
    }

    /// <summary>
    /// Opens a connection to every member now (a read each, failures ignored): a channel's first call pays for the
    /// connection, and that must not happen inside a lease renewal's budget when the member used so far freezes.
    /// </summary>
    public Task WarmUpAsync(string key, CancellationToken cancellation) =>
        Task.WhenAll(_members.Select(async member =>
        {
            try
            {
                await member.Client.GetAsync(key, RequireLeader, DateTime.UtcNow + _requestTimeout * 3, cancellation);
            }
            catch (Exception e) when (Classify(e, _requestTimeout) is not null)
            {
                // A member that is down now is connected to when it is needed.
            }
        }));

    /// <summary>The member a long-lived stream (a watch) should open on: the preferred one.</summary>
    public (int Index, string Url, EtcdClient Client, Metadata Headers) PickForStream()
    {
        var index = Volatile.Read(ref _preferred);
        return (index, _members[index].Url, _members[index].Client, RequireLeader);
    }

    /// <summary>A stream on member <paramref name="index"/> failed: the next call or stream starts on the next member.</summary>
    public void Failed(int index)
    {
        Interlocked.Increment(ref _failedRequests);
        Interlocked.CompareExchange(ref _preferred, (index + 1) % _members.Length, index);
    }

    /// <summary>Requests and streams that failed on a member (each moved the next one on to another member), since start.</summary>
    public long FailedRequests => Interlocked.Read(ref _failedRequests);

    internal sealed record Failure(string Description, bool SurelyNotSent, string? Refusal);

    /// <summary>Null for an exception that is not about etcd at all (a bug: let it through).</summary>
    internal static Failure? Classify(Exception e, TimeSpan timeout)
    {
        switch (e)
        {
            case OperationCanceledException:
                return new($"no answer within {timeout.TotalMilliseconds:0} ms", false, null);
            case RpcException rpc when RefusalIn(rpc) is { } refusal:
                return new(refusal, false, refusal);
            case RpcException rpc when rpc.StatusCode is StatusCode.Cancelled or StatusCode.DeadlineExceeded:
                return new($"no answer within {timeout.TotalMilliseconds:0} ms", false, null);
            case RpcException rpc:
                return new($"{rpc.StatusCode}: {Detail(rpc)}", SocketErrorIn(rpc) is SocketError.ConnectionRefused, null);
            default:
                return null;
        }
    }

    /// <summary>
    /// A status that says etcd understood and refused the request. The authentication call runs inside the HTTP
    /// handler, so its refusal arrives wrapped in the status of the call it was made for.
    /// </summary>
    private static string? RefusalIn(RpcException rpc)
    {
        for (Exception? e = rpc; e is not null; e = e.InnerException)
        {
            if (e is RpcException { StatusCode: StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.Unauthenticated
                    or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.OutOfRange } refused)
            {
                return $"{refused.StatusCode}: {refused.Status.Detail}";
            }
        }

        return null;
    }

    private static SocketError? SocketErrorIn(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }

    private static string Detail(RpcException rpc) =>
        SocketErrorIn(rpc) is { } socket ? $"{rpc.Status.Detail} ({socket})" : rpc.Status.Detail;

    private EtcdClient CreateClient(string url, EtcdOptions options, string? password)
    {
        var tls = url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        EtcdClient client;
        if (tls)
        {
            client = new EtcdClient(url, ssl => ConfigureTls(ssl, options), configureChannelOptions: Tune);
            if (password is not null)
            {
                client.SetCredentials(options.Username, password);
            }
        }
        else
        {
            client = password is null
                ? new EtcdClient(url, configureChannelOptions: Tune)
                : new EtcdClient(url, options.Username, password, configureChannelOptions: Tune);
        }

        return client;
    }

    /// <summary>
    /// dotnet-etcd's channel retries an unavailable call up to 5 times over several seconds, pings an idle connection
    /// every 30 s and backs off reconnecting up to 2 minutes. Here the caller decides about retries (a transaction must
    /// not be sent twice blindly), a silent connection is found within 2 s, and a restarted member is used again soon.
    /// </summary>
    private void Tune(GrpcChannelOptions channel)
    {
        channel.ServiceConfig?.MethodConfigs.Clear();
        if (channel.ServiceConfig is not null)
        {
            channel.ServiceConfig.RetryThrottling = null;
        }

        channel.MaxReconnectBackoff = TimeSpan.FromSeconds(2);
        if (channel.HttpHandler is SocketsHttpHandler handler)
        {
            handler.KeepAlivePingDelay = TimeSpan.FromSeconds(1);
            handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(1);
            handler.ConnectTimeout = _requestTimeout;
        }
    }

    private static void ConfigureTls(SslClientAuthenticationOptions ssl, EtcdOptions options)
    {
        if (options.ClientCertificate.Length > 0)
        {
            var certificate = X509Certificate2.CreateFromPemFile(options.ClientCertificate, options.ClientCertificateKey);
            // An ephemeral key from PEM cannot be used by SslStream on every platform: export and load it once more.
            ssl.ClientCertificates = [X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)];
        }

        if (options.CaCertificate.Length > 0)
        {
            var ca = X509Certificate2.CreateFromPemFile(options.CaCertificate);
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
    }

    public void Dispose()
    {
        foreach (var (_, client) in _members)
        {
            client.Dispose();
        }
    }
}
