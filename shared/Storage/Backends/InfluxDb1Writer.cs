using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Seccm.Storage.Backends;

/// <summary>
/// InfluxDB 1.x: POST line protocol to /write?db=..&amp;precision=ns. Debian's influxdb 1.6 has no
/// /api/v2/write, so this is the path for older servers (and the one tested against a real influxd).
/// Creates the database on first use.
/// </summary>
internal sealed class InfluxDb1Writer : ILineProtocolWriter
{
    private readonly HttpClient _http;
    private readonly string _database;
    private readonly string _writePath;
    private bool _databaseReady;

    public InfluxDb1Writer(Uri url, string database, string? username, string? password, TimeSpan requestTimeout)
    {
        _database = database;
        var baseUrl = url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseUrl,
            Timeout = requestTimeout,
        };
        if (!string.IsNullOrEmpty(username))
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", basic);
        }
        _writePath = $"write?db={Uri.EscapeDataString(database)}&precision=ns";
        Target = $"InfluxDB 1.x {baseUrl} database '{database}'";
    }

    public string Target { get; }

    public async Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        if (!_databaseReady)
        {
            var created = await EnsureDatabaseAsync(cancellationToken).ConfigureAwait(false);
            if (created.Kind != WriteOutcomeKind.Ok)
            {
                return created;
            }
        }
        var body = LineProtocolBody.Encode(lines);
        var outcome = await PostAsync(_writePath, new ByteArrayContent(body), cancellationToken).ConfigureAwait(false);
        if (outcome.Kind != WriteOutcomeKind.Ok && outcome.Message.Contains("database not found", StringComparison.OrdinalIgnoreCase))
        {
            // Someone dropped the database under us: recreate it, the data is fine.
            _databaseReady = false;
            return WriteOutcome.Retry(outcome.Message);
        }
        return outcome;
    }

    private async Task<WriteOutcome> EnsureDatabaseAsync(CancellationToken cancellationToken)
    {
        var statement = $"CREATE DATABASE \"{_database.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("q", statement)]);
        var outcome = await PostAsync("query", form, cancellationToken).ConfigureAwait(false);
        if (outcome.Kind == WriteOutcomeKind.Ok)
        {
            _databaseReady = true;
            return outcome;
        }
        // The data itself is not at fault when the database cannot be created (rights, bad name): keep it.
        return WriteOutcome.Retry($"cannot create the database: {outcome.Message}");
    }

    private async Task<WriteOutcome> PostAsync(string path, HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            using (content)
            using (var response = await _http.PostAsync(path, content, cancellationToken).ConfigureAwait(false))
            {
                if (response.IsSuccessStatusCode)
                {
                    // /query answers 200 with {"results":[{"error":...}]} for a failed statement.
                    if (path == "query")
                    {
                        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                        if (text.Contains("\"error\"", StringComparison.Ordinal))
                        {
                            return WriteOutcome.Reject($"{Target}: {Trim(text)}");
                        }
                    }
                    return WriteOutcome.Ok;
                }
                var error = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var message = $"{Target} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Trim(error)}";
                return HttpStatusClass.IsRetryable(response.StatusCode) ? WriteOutcome.Retry(message) : WriteOutcome.Reject(message);
            }
        }
        catch (HttpRequestException ex)
        {
            return WriteOutcome.Retry($"{Target} is unreachable: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return WriteOutcome.Retry($"{Target} did not answer within {_http.Timeout.TotalSeconds:0.#} s");
        }
        catch (IOException ex)
        {
            return WriteOutcome.Retry($"{Target}: connection failed: {ex.Message}");
        }
    }

    private static string Trim(string text) => text.Length <= 500 ? text.Trim() : text[..500] + "...";

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Which HTTP answers mean "try again later" rather than "this data is bad".</summary>
internal static class HttpStatusClass
{
    public static bool IsRetryable(HttpStatusCode status) => (int)status switch
    {
        >= 500 => true,
        0 => true,
        401 or 403 => true, // credentials are a configuration problem, not bad data: keep the points
        404 => true,        // wrong path or a proxy in front; never a verdict on the data
        408 or 429 => true,
        _ => false,
    };
}

/// <summary>Joins lines into one UTF-8 request body, newline separated.</summary>
internal static class LineProtocolBody
{
    public static byte[] Encode(IReadOnlyList<string> lines)
    {
        var length = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            length += Encoding.UTF8.GetByteCount(lines[i]) + 1;
        }
        var buffer = new byte[length];
        var at = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            at += Encoding.UTF8.GetBytes(lines[i], 0, lines[i].Length, buffer, at);
            buffer[at++] = (byte)'\n';
        }
        return buffer;
    }
}
