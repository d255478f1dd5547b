using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Storage.Backends;

namespace Seccm.Storage;

/// <summary>What a replay did.</summary>
/// <param name="Files">Line-protocol files read.</param>
/// <param name="PointsWritten">Points the database acknowledged.</param>
/// <param name="PointsRejected">Points the database refused as bad data.</param>
/// <param name="Errors">One message per rejected batch, naming file and line range.</param>
public sealed record ReplayReport(int Files, long PointsWritten, long PointsRejected, IReadOnlyList<string> Errors);

/// <summary>Loads line-protocol files (the files backend's output, or quarantined batches after a fix) into a database.</summary>
public static class TimeSeriesReplay
{
    /// <summary>
    /// Sends every *.lp file under <paramref name="directory"/> (sub-directories included, in path order,
    /// which is day order for the files backend) to the database configured in <paramref name="options"/>.
    /// Waits and retries while the database is unreachable (up to <paramref name="maxRetries"/> per batch);
    /// batches it rejects are reported with file and line numbers and skipped.
    /// </summary>
    public static async Task<ReplayReport> ReplayDirectoryAsync(string directory, StorageOptions options,
        TimeProvider? time = null, ILogger? logger = null, int maxRetries = 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NormalizedKind == StorageOptions.KindFiles)
        {
            throw new InvalidOperationException(
                "Storage:Kind is files, so there is no database to replay into; set Storage:Kind to influxdb1 or influxdb2 and Storage:Url (e.g. SECCM__STORAGE__KIND=influxdb1).");
        }
        time ??= TimeProvider.System;
        await using var writer = StorageFactory.CreateWriter(options, time);
        return await ReplayDirectoryAsync(directory, writer, options.BatchSize, time, logger ?? NullLogger.Instance, maxRetries,
            TimeSpan.FromMilliseconds(options.MaxRetryDelayMs), cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<ReplayReport> ReplayDirectoryAsync(string directory, ILineProtocolWriter writer, int batchSize,
        TimeProvider time, ILogger logger, int maxRetries, TimeSpan maxRetryDelay, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Replay directory '{directory}' does not exist.");
        }
        var files = Directory.EnumerateFiles(directory, "*.lp", SearchOption.AllDirectories)
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        long written = 0;
        long rejected = 0;
        var errors = new List<string>();
        var batch = new List<string>(batchSize);
        foreach (var file in files)
        {
            var firstLine = 0;
            var lineNumber = 0;
            foreach (var raw in File.ReadLines(file))
            {
                lineNumber++;
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                if (batch.Count == 0)
                {
                    firstLine = lineNumber;
                }
                batch.Add(line);
                if (batch.Count == batchSize)
                {
                    await SendAsync().ConfigureAwait(false);
                }
            }
            if (batch.Count > 0)
            {
                await SendAsync().ConfigureAwait(false);
            }

            async Task SendAsync()
            {
                var delay = TimeSpan.FromMilliseconds(100);
                for (var attempt = 0; ; attempt++)
                {
                    var outcome = await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                    if (outcome.Kind == WriteOutcomeKind.Ok)
                    {
                        written += batch.Count;
                        break;
                    }
                    var where = $"{file} lines {firstLine}-{lineNumber}";
                    if (outcome.Kind == WriteOutcomeKind.Reject)
                    {
                        rejected += batch.Count;
                        errors.Add($"{where}: {outcome.Message}");
                        break;
                    }
                    if (attempt >= maxRetries)
                    {
                        throw new IOException(
                            $"Gave up replaying {where} after {maxRetries} retries: {outcome.Message}. {written} points were written before; rerun the replay once the database is back (points already written are overwritten with themselves).");
                    }
                    ReplayLog.Retrying(logger, where, outcome.Message, delay.TotalSeconds);
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxRetryDelay.Ticks));
                }
                batch.Clear();
            }
        }
        return new ReplayReport(files.Count, written, rejected, errors);
    }
}

internal static partial class ReplayLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay: {Where} not stored ({Reason}); retrying in {DelayS} s")]
    public static partial void Retrying(ILogger logger, string where, string reason, double delayS);
}
