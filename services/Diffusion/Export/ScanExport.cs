using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Diffusion.Reconciliation;
using Seccm.Diffusion.Results;
using Seccm.Diffusion.Scans;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;

namespace Seccm.Diffusion.Export;

/// <summary>
/// The end of a scan: waits for the results other workers (or late chunks) still owe, reconciles with the scan's record
/// when some are missing, writes the map files and clears the retained results; and <c>cmd/export</c>, the same files on
/// demand.
/// </summary>
internal sealed partial class ScanExport(IMessageBus bus, DiffusionOptions options, TimeProvider time, ScanLedger ledger, ResultPublisher publisher,
    Reconciler reconciler, ILogger logger)
{
    public async Task OnFinishedAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (!message.TryRead<ScanFinishedEvent>(logger, "dropped", out var finished))
        {
            return;
        }
        // Pixels other workers analyse, or that wait here for their last chunks, may not have reported yet. A broker killed
        // mid-scan may have lost done events or chunks for good: after a short wait, reconcile with the scan's record.
        var waitStart = time.GetTimestamp();
        await WaitForResultsAsync(finished, Math.Min(options.ReconcileAfterS, options.ExportWaitS), waitStart, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<int>? unresolved = null;
        if (ledger.ResultCount(finished.ScanId) < finished.PixelsDone && options.ExportWaitS > 0)
        {
            unresolved = await reconciler.ReconcileAsync(finished, cancellationToken).ConfigureAwait(false);
        }
        await WaitForResultsAsync(finished, options.ExportWaitS, waitStart, cancellationToken).ConfigureAwait(false);
        var have = ledger.ResultCount(finished.ScanId);
        if (have < finished.PixelsDone)
        {
            LogExportIncomplete(logger, finished.ScanId, have, finished.PixelsDone, time.GetElapsedTime(waitStart).TotalSeconds,
                unresolved is null ? "unknown (the scan did not list its recorded pixels)" : string.Join(", ", unresolved));
        }
        try
        {
            await ExportAsync(finished.ScanId, cancellationToken).ConfigureAwait(false);
        }
        catch (CommandException ex)
        {
            LogExportFailed(logger, finished.ScanId, ex.Message);
            return;
        }
        await publisher.ClearRetainedResultsAsync(finished.ScanId, cancellationToken).ConfigureAwait(false);
    }

    public Task<DiffusionExportedEvent> ExportCommandAsync(ExportCommand command, CancellationToken cancellationToken) =>
        ExportAsync(command.ScanId, cancellationToken);

    private async Task WaitForResultsAsync(ScanFinishedEvent finished, double untilS, long since, CancellationToken cancellationToken)
    {
        while (ledger.ResultCount(finished.ScanId) < finished.PixelsDone && time.GetElapsedTime(since).TotalSeconds < untilS)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<DiffusionExportedEvent> ExportAsync(string scanId, CancellationToken cancellationToken)
    {
        ExportInput input;
        lock (ledger.Gate)
        {
            if (!ledger.TryGet(scanId, out var scan))
            {
                throw CommandException.Invalid(
                    $"scan '{scanId}' is unknown to {bus.ClientId}: it keeps the last {options.MaxScansKept} scans (known: {string.Join(", ", ledger.Known)})");
            }
            if (scan.Results.Count == 0)
            {
                throw CommandException.Refused($"scan '{scanId}' has no analysed pixel yet; nothing to export");
            }
            input = new ExportInput(scanId, bus.Instrument, scan.Started, scan.Results.Values.ToArray(), scan.Spill, scan.Technique ?? "cv",
                options.ExampleCvPixels);
        }
        var directory = Path.GetFullPath(options.FlatOutput ? options.OutputDirectory : Path.Combine(options.OutputDirectory, scanId));
        IReadOnlyList<string> files;
        ExportSummary summary;
        try
        {
            (files, summary) = await Task.Run(() => MapExporter.Export(input, directory), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandException(Contracts.Messages.ErrorCodes.Internal, $"{directory}: cannot write the map files of scan '{scanId}': {ex.Message}");
        }
        var exported = new DiffusionExportedEvent(scanId, directory, files, summary, time.GetUtcNow());
        await bus.PublishAsync(DiffusionTopics.ExportedTopic(bus.Instrument), exported, MqttQualityOfServiceLevel.AtLeastOnce,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        LogExported(logger, scanId, input.Results.Count, directory);
        return exported;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId}: exporting with {Have} of {Done} pixel results after waiting {WaitS:0.#} s; missing: {Missing}")]
    private static partial void LogExportIncomplete(ILogger logger, string scanId, int have, int done, double waitS, string missing);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId}: export failed: {Reason}")]
    private static partial void LogExportFailed(ILogger logger, string scanId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: exported {Pixels} pixels to {Directory}")]
    private static partial void LogExported(ILogger logger, string scanId, int pixels, string directory);
}
