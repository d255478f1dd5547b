using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Host.Verbs;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Potentiostat;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm-bench chunks</c>: curve-chunk throughput along the potentiostat's data path (<see cref="CurveChunk"/>s of the
/// configured size serialized and queued on <see cref="MqttBus"/> at QoS 1 with the potentiostat's back-pressure rule,
/// received by a plain MqttBus subscriber) against bare MQTTnet QoS 1 publishes of the same bytes, one awaited at a time,
/// received by a bare client, on the same broker in the same run.
/// </summary>
internal static class ChunksBench
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string? host, int? port, int messages, BenchReport report, CancellationToken cancellationToken)
    {
        if (messages is < 1 or > 1_000_000) return BenchVerb.Fail("chunks", $"--messages {messages}: must be between 1 and 1000000");
        var time = TimeProvider.System;
        var options = new PotentiostatOptions();
        int samples = options.ChunkSamples;
        string instrument = $"bench-chunks-{Environment.ProcessId}";
        string busTopic = PotentiostatTopics.CvDataTopic(instrument, "bench-bus");
        string rawTopic = PotentiostatTopics.CvDataTopic(instrument, "bench-raw");
        var chunks = Enumerable.Range(0, Math.Min(messages, 64)).Select(i => Chunk(i, samples)).ToArray();
        var bytes = chunks.Select(SeccmJson.Serialize).ToArray();

        await using var broker = await BenchBroker.OpenAsync(host, port, cancellationToken).ConfigureAwait(false);
        var seccm = new SeccmOptions { Instrument = instrument, WorkerId = "b" };
        var mqtt = new MqttOptions { Host = broker.Host, Port = broker.Port, SessionExpirySeconds = 0 };
        await using var publisher = new MqttBus(ServiceNames.Potentiostat, seccm, mqtt, NullLogger.Instance, time);
        await using var reader = new MqttBus(ServiceNames.Diffusion, seccm, mqtt, NullLogger.Instance, time);
        using var rawPublisher = await broker.ConnectRawAsync($"{instrument}-rawpub", cancellationToken).ConfigureAwait(false);
        using var rawReader = await broker.ConnectRawAsync($"{instrument}-rawsub", cancellationToken).ConfigureAwait(false);
        try
        {
            await publisher.StartAsync(cancellationToken).ConfigureAwait(false);
            await reader.StartAsync(cancellationToken).ConfigureAwait(false);
            await publisher.WaitConnectedAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            await reader.WaitConnectedAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new BenchException(ex.Message);
        }

        int busReceived = 0, rawReceived = 0, busTarget = 0, rawTarget = 0;
        TaskCompletionSource? busDone = null, rawDone = null;
        await reader.SubscribeAsync(busTopic, (m, ct) =>
        {
            // Decoded as the diffusion service decodes it: the reading side's work counts too.
            _ = SeccmJson.DeserializeValid<CurveChunk>(m.Payload.Span, m.Topic);
            if (Interlocked.Increment(ref busReceived) == Volatile.Read(ref busTarget)) busDone?.TrySetResult();
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        rawReader.ApplicationMessageReceivedAsync += e =>
        {
            _ = SeccmJson.DeserializeValid<CurveChunk>(e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Topic);
            if (Interlocked.Increment(ref rawReceived) == Volatile.Read(ref rawTarget)) rawDone?.TrySetResult();
            return Task.CompletedTask;
        };
        await BenchBroker.SubscribeAsync(rawReader, rawTopic, cancellationToken).ConfigureAwait(false);

        async Task<double> BusRoundAsync(int n)
        {
            busDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref busReceived, 0);
            Volatile.Write(ref busTarget, n);
            var started = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                await publisher.PublishAsync(busTopic, chunks[i % chunks.Length], MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                // The potentiostat's back-pressure (PotentiostatWorker.PublishDataAsync): wait for the broker, not memory.
                while (publisher.QueuedMessages > options.MaxQueuedDataMessages)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(2), time, cancellationToken).ConfigureAwait(false);
                }
            }
            await Wait(busDone.Task, busTopic, n, () => Volatile.Read(ref busReceived)).ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(started).TotalSeconds;
        }

        async Task<double> RawRoundAsync(int n)
        {
            rawDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref rawReceived, 0);
            Volatile.Write(ref rawTarget, n);
            var started = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                await rawPublisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(rawTopic).WithPayload(bytes[i % bytes.Length])
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
            }
            await Wait(rawDone.Task, rawTopic, n, () => Volatile.Read(ref rawReceived)).ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(started).TotalSeconds;
        }

        async Task Wait(Task done, string topic, int n, Func<int> got)
        {
            try
            {
                await done.WaitAsync(Timeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new BenchException($"only {got()} of {n} chunks arrived on '{topic}' within {Timeout.TotalSeconds} s");
            }
        }

        // Warm-up (JIT, TCP windows), then the two sides alternate twice; each side's faster round is kept.
        int warm = Math.Min(messages, 50);
        await RawRoundAsync(warm).ConfigureAwait(false);
        await BusRoundAsync(warm).ConfigureAwait(false);
        double rawS = double.MaxValue, busS = double.MaxValue;
        for (int round = 0; round < 2; round++)
        {
            rawS = Math.Min(rawS, await RawRoundAsync(messages).ConfigureAwait(false));
            busS = Math.Min(busS, await BusRoundAsync(messages).ConfigureAwait(false));
        }

        double totalSamples = (double)messages * samples;
        double meanBytes = bytes.Average(b => (double)b.Length);
        report.AddInfo("broker", broker.Kind);
        report.Add("messages", messages, "", "per round; best of 2 rounds per side");
        report.Add("samples_per_message", samples, "", "Potentiostat:ChunkSamples default");
        report.Add("bytes_per_message", meanBytes, "B", "CurveChunk JSON");
        report.Add("raw_samples_per_s", totalSamples / rawS, "samples/s", "bare MQTTnet QoS 1, one publish awaited at a time (baseline)");
        report.Add("raw_mb_per_s", messages * meanBytes / rawS / 1e6, "MB/s");
        report.Add("bus_samples_per_s", totalSamples / busS, "samples/s", FormattableString.Invariant(
            $"MqttBus QoS 1 queue, back-pressure at {options.MaxQueuedDataMessages} queued"));
        report.Add("bus_mb_per_s", messages * meanBytes / busS / 1e6, "MB/s");
        report.Add("ratio_bus_over_raw", rawS / busS, "x", "throughput; > 1 means the bus is faster");
        report.Add("bench_wall_raw_s", rawS, "s");
        report.Add("bench_wall_bus_s", busS, "s");

        await publisher.DisposeAsync().ConfigureAwait(false);
        await reader.DisposeAsync().ConfigureAwait(false);
        await broker.ClearStatusesAsync(instrument, [ServiceNames.Potentiostat, ServiceNames.Diffusion], cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>A chunk of a CV as the potentiostat sends it: 1 MHz-ish time base, a sweep, nA currents with full-precision digits.</summary>
    private static CurveChunk Chunk(int index, int samples)
    {
        var random = new Random(index);
        var t = new double[samples];
        var e = new double[samples];
        var i = new double[samples];
        for (int k = 0; k < samples; k++)
        {
            long n = (long)index * samples + k;
            t[k] = n * 1e-3;
            e[k] = 1.55 + 0.3 * Math.Sin(n * 1e-3);
            i[k] = 2e-9 * Math.Cos(n * 1e-3) + 1e-12 * random.NextDouble();
        }
        return new CurveChunk("bench", 0, PotentiostatTopics.CvData, 0, 1, 0.1, samples * 10, index, null, false, (long)index * samples,
            DateTimeOffset.UnixEpoch, t, e, i);
    }
}
