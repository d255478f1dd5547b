using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Seccm.TestSupport;

/// <summary>Keeps the text of every warning or worse the service logs.</summary>
public sealed class CollectingLoggerProvider(ConcurrentQueue<string> into) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Collecting(into);

    /// <summary>A logger that keeps its warnings in <paramref name="into"/>.</summary>
    public static ILogger Logger(ConcurrentQueue<string> into) => new Collecting(into);

    public void Dispose()
    {
    }

    private sealed class Collecting(ConcurrentQueue<string> into) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                into.Enqueue(formatter(state, exception));
            }
        }
    }
}
