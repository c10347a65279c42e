using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Gateway.Database.Sessions;

/// <summary>The connection to a database node that a client session currently runs on, as a pair of pipes.</summary>
public sealed class PgServerLink : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private int _disposed;

    public PgServerLink(Socket socket, DatabaseTarget target)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Target = target;
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public DatabaseTarget Target { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>The node's own BackendKeyData for this connection: where a client's cancel request goes.</summary>
    public (int ProcessId, int Secret)? BackendKey { get; set; }

    /// <summary>What the node reported while the gateway logged the session in (ParameterStatus).</summary>
    public Dictionary<string, string> Parameters { get; } = [];

    /// <summary>
    /// A message of the gateway's own (login, probe, restore, goodbye), written and flushed whole. The client side
    /// may be flushing the client's messages to the same node at that moment: a pipe writer takes one writer at a time.
    /// </summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        await _writing.WaitAsync(cancellation);
        try
        {
            await Output.WriteAsync(bytes, cancellation);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>The client side takes the writer for a batch of the client's messages, written then flushed, and gives it back.</summary>
    public ValueTask TakeWriterAsync(CancellationToken cancellation) =>
        _writing.Wait(0) ? ValueTask.CompletedTask : new ValueTask(_writing.WaitAsync(cancellation));

    public void ReturnWriter() => _writing.Release();

    /// <summary>Says goodbye (Terminate), so the backend ends at once rather than when it notices the closed socket.</summary>
    public async Task TerminateAsync()
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await SendAsync(PgWire.Terminate(), bound.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Gone already: nothing to say goodbye to.
        }
    }

    /// <summary>Reads one whole message the gateway itself waits for (login, restore); the pumps read the pipe themselves.</summary>
    public Task<PgMessage> ReadAsync(CancellationToken cancellation) => PgMessage.ReadAsync(Input, PgWire.IsBackendType, _ => PgWire.MaxSmallMessageLength * 100, cancellation);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the other side.
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        await _stream.DisposeAsync();
    }
}

/// <summary>One whole protocol message: its type and body (the header's length word stripped).</summary>
public readonly record struct PgMessage(byte Type, byte[] Body)
{
    public byte[] ToBytes() => PgWire.Message(Type, Body);

    /// <summary>The authentication request code of an 'R' message.</summary>
    public int AuthCode => Body.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(Body) : -1;

    /// <summary>Reads one whole message; throws <see cref="PgProtocolException"/> for bytes that are not one, <see cref="EndOfStreamException"/> at the end.</summary>
    public static async Task<PgMessage> ReadAsync(PipeReader input, Func<byte, bool> isValidType, Func<byte, int> maxLength, CancellationToken cancellation)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellation);
            var buffer = result.Buffer;
            if (PgWire.TryReadHeader(buffer, out var type, out var length))
            {
                if (!isValidType(type) || length < 4 || length > maxLength(type))
                {
                    input.AdvanceTo(buffer.Start);
                    throw new PgProtocolException(isValidType(type) ? $"message '{(char)type}' declares an invalid length {length}" : $"unknown message type 0x{type:x2}");
                }

                if (buffer.Length >= 1L + length)
                {
                    var body = buffer.Slice(PgWire.HeaderLength, length - 4).ToArray();
                    input.AdvanceTo(buffer.GetPosition(1L + length));
                    return new PgMessage(type, body);
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                throw result.IsCanceled ? new OperationCanceledException("read cancelled") : new EndOfStreamException("the connection was closed");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}

/// <summary>Bytes on a session that are not the PostgreSQL protocol, from either side.</summary>
public sealed class PgProtocolException(string message) : Exception(message);
