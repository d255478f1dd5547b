using System.Net;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;

namespace Seccm.Storage.Backends;

/// <summary>InfluxDB 2.x/3.x (and 1.8+ compatibility) through InfluxDB.Client's WriteApiAsync: /api/v2/write.</summary>
internal sealed class InfluxDb2Writer : ILineProtocolWriter
{
    private readonly InfluxDBClient _client;
    private readonly WriteApiAsync _api;
    private readonly string _org;
    private readonly string _bucket;
    private readonly TimeSpan _timeout;

    public InfluxDb2Writer(Uri url, string org, string bucket, string token, TimeSpan requestTimeout)
    {
        _org = org;
        _bucket = bucket;
        _timeout = requestTimeout;
        _client = new InfluxDBClient(new InfluxDBClientOptions(url.AbsoluteUri)
        {
            Token = token,
            Org = org,
            Bucket = bucket,
            Timeout = requestTimeout,
        });
        _api = _client.GetWriteApiAsync();
        Target = $"InfluxDB v2 API {url} org '{org}' bucket '{bucket}'";
    }

    public string Target { get; }

    public async Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        try
        {
            await _api.WriteRecordsAsync(lines, WritePrecision.Ns, _bucket, _org, cancellationToken).ConfigureAwait(false);
            return WriteOutcome.Ok;
        }
        catch (HttpException ex)
        {
            var message = $"{Target} answered {ex.Status}: {ex.Message}";
            return HttpStatusClass.IsRetryable((HttpStatusCode)ex.Status) ? WriteOutcome.Retry(message) : WriteOutcome.Reject(message);
        }
        catch (HttpRequestException ex)
        {
            return WriteOutcome.Retry($"{Target} is unreachable: {ex.Message}");
        }
        catch (IOException ex)
        {
            return WriteOutcome.Retry($"{Target}: connection failed: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return WriteOutcome.Retry($"{Target} did not answer within {_timeout.TotalSeconds:0.#} s");
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
