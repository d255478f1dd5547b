using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Interlocks;
using Seccm.Scan.Recipes;

namespace Seccm.Scan.Orchestration;

/// <summary>Answers start/pause/resume/abort/status/pixels and picks up the checkpoint of a scan that was running when the process died.</summary>
internal sealed partial class ScanWorker(
    IMessageBus bus,
    ScanRunner runner,
    InterlockMonitor interlocks,
    CheckpointStore store,
    ScanOptions options,
    TimeProvider time,
    ILogger<ScanWorker> logger,
    StatusRecorder? statusRecorder = null) : BackgroundService
{
    private static readonly TimeSpan StatusRefresh = TimeSpan.FromSeconds(30);

    /// <summary>Maps the commands before the host has started: the bus announces the service online only after them.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await bus.MapCommandAsync<StartScanCommand, ScanStatusResult>("start", StartAsync).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, ScanStatusResult>("pause", (_, _) =>
            Task.FromResult(new ScanStatusResult(runner.Pause("paused by command"), "pausing at the next safe point"))).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, ScanStatusResult>("resume", (_, _) =>
            Task.FromResult(new ScanStatusResult(runner.Resume(), "resuming"))).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, ScanStatusResult>("abort", async (_, _) =>
            new ScanStatusResult(await runner.AbortAsync().ConfigureAwait(false), "aborted")).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, ScanStatusResult>("status", (_, _) =>
            Task.FromResult(new ScanStatusResult(runner.Progress, Describe(runner.Progress)))).ConfigureAwait(false);
        await bus.MapCommandAsync<ScanPixelsCommand, ScanPixelsResult>(ScanTopics.PixelsVerb, (command, _) =>
            Task.FromResult(RecordedPixelsQuery.Answer(store, command))).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await interlocks.StartAsync(bus).ConfigureAwait(false);

        ScanCheckpoint? active;
        try
        {
            active = store.LoadActive();
        }
        catch (InvalidDataException ex)
        {
            LogCorruptCheckpoint(logger, ex.Message);
            active = null;
        }
        if (active is not null && active.State is ScanState.Running or ScanState.Paused or ScanState.Pausing or ScanState.Starting)
        {
            await WaitForInterlocksAsync(active.Recipe, stoppingToken).ConfigureAwait(false);
            await runner.ResumeFromCheckpointAsync(active, stoppingToken).ConfigureAwait(false);
        }
        if (statusRecorder is not null)
        {
            try
            {
                while (!stoppingToken.IsCancellationRequested)
                {
                    await Task.Delay(StatusRefresh, time, stoppingToken).ConfigureAwait(false);
                    statusRecorder.Refresh();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task<ScanStatusResult> StartAsync(StartScanCommand command, CancellationToken cancellationToken)
    {
        var problems = RecipeValidator.Validate(command.Recipe).ToList();
        if (problems.Count > 0)
        {
            throw CommandException.Invalid($"recipe {command.Recipe.Name}: {string.Join("; ", problems)}");
        }
        if (command.Recipe.Instrument is { } target && target != bus.Instrument)
        {
            throw CommandException.Invalid($"recipe {command.Recipe.Name} is for instrument '{target}', this is '{bus.Instrument}'.");
        }
        var scanId = command.ScanId ?? NewScanId(command.Recipe.Name);
        if (!Contracts.Topics.Topic.IsValidSegment(scanId))
        {
            throw CommandException.Invalid($"scanId '{scanId}' must be 1-64 letters, digits, '-', '_' or '.'.");
        }
        var progress = await runner.StartAsync(command.Recipe, scanId, cancellationToken).ConfigureAwait(false);
        return new ScanStatusResult(progress, $"scan {scanId} started: {progress.PixelsTotal} pixels");
    }

    private string NewScanId(string recipeName)
    {
        var stamp = time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var name = new string(recipeName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        var id = $"{name}-{stamp}";
        return id.Length <= 64 ? id : id[^64..];
    }

    private async Task WaitForInterlocksAsync(Recipe recipe, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp() + (long)(options.ResumeGraceSeconds * time.TimestampFrequency);
        while (!interlocks.Check(recipe.Glovebox ?? new GloveboxLimits()).Safe && time.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(ScanProgress? p) => p is null
        ? "no scan has run since the service started"
        : $"scan {p.ScanId} ({p.RecipeName}) {p.State.ToString().ToLowerInvariant()}: {p.PixelsDone}/{p.PixelsTotal} pixels" +
          (p.PauseReason is null ? "" : $", paused: {p.PauseReason}");

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await runner.SuspendAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Message}")]
    private static partial void LogCorruptCheckpoint(ILogger logger, string message);
}
