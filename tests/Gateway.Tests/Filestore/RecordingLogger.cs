using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

/// <summary>Keeps every log line of a replicator (trace included), so a failing test can show what it did.</summary>
public sealed class RecordingLogger : ILogger<FilestoreReplicator>
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _messages = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        _messages.Enqueue(message);
        _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.ffffff} {logLevel}: {message}{(exception is null ? "" : " " + exception.Message)}");
    }

    /// <summary>The messages logged so far, without their time and level.</summary>
    public IReadOnlyList<string> Messages => _messages.ToArray();

    public string Tail(int lines) => string.Join('\n', _lines.TakeLast(lines));
}
