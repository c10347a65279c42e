using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Hardening;

/// <summary>What came back on a raw connection: the status of every response, and whether the server closed it.</summary>
public sealed record RawExchange(IReadOnlyList<int> Statuses, bool ClosedByServer, string Text)
{
    public int? FirstStatus => Statuses.Count > 0 ? Statuses[0] : null;

    public override string ToString() => $"statuses [{string.Join(", ", Statuses)}], closed by server: {ClosedByServer}, answer: {Text}";
}

/// <summary>
/// Writes exact bytes to a listener over a plain TCP connection, for requests no well-behaved HTTP client can be made
/// to send (conflicting framing, bare LFs, folded headers), and reads what comes back until the server closes.
/// </summary>
public static partial class RawHttp
{
    /// <summary>How long to wait for the server to close; every refusal closes at once, so only a test that fails waits this long.</summary>
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    public static Task<RawExchange> SendAsync(int port, string request) => SendAsync(port, Encoding.Latin1.GetBytes(request));

    public static async Task<RawExchange> SendAsync(int port, byte[] request)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The server refused and closed while the rest was still being written: what it answered is still readable.
        }

        return await ReadUntilClosedAsync(stream);
    }

    /// <summary>
    /// Writes <paramref name="head"/> at once, then <paramref name="trickled"/> a byte at a time with a pause between
    /// bytes, stopping as soon as the server closes; returns what came back and how many trickled bytes were written.
    /// </summary>
    public static async Task<(RawExchange Exchange, int BytesWritten)> TrickleAsync(int port, string head, string trickled, TimeSpan pause)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head));
        var bytes = Encoding.Latin1.GetBytes(trickled);
        var reading = ReadUntilClosedAsync(stream, CloseWait + pause * bytes.Length);
        var written = 0;
        for (; written < bytes.Length && !reading.IsCompleted; written++)
        {
            try
            {
                await stream.WriteAsync(bytes.AsMemory(written, 1));
            }
            catch (IOException)
            {
                break;
            }

            await Task.Delay(pause);
        }

        return (await reading, written);
    }

    /// <summary>Opens a connection and sends nothing; returns it for the caller to watch.</summary>
    public static async Task<TcpClient> ConnectAsync(int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        return client;
    }

    public static Task<RawExchange> ReadUntilClosedAsync(NetworkStream stream) => ReadUntilClosedAsync(stream, CloseWait);

    private static async Task<RawExchange> ReadUntilClosedAsync(NetworkStream stream, TimeSpan wait)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var closed = false;
        using var deadline = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, deadline.Token);
                if (read == 0)
                {
                    closed = true;
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset by the server: closed all the same.
            closed = true;
        }
        catch (OperationCanceledException)
        {
            // Still open after the wait.
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        var statuses = StatusLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value)).ToList();
        return new RawExchange(statuses, closed, text.Length > 400 ? text[..400] + "..." : text);
    }

    [GeneratedRegex(@"(?m)^HTTP/1\.[01] (\d{3}) ")]
    private static partial Regex StatusLine();
}
