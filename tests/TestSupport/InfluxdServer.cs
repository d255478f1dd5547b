using System.Globalization;
using System.Text.Json;

namespace Seccm.TestSupport;

/// <summary>
/// A real influxd (Debian's influxdb 1.6) on free loopback ports with its data in a temp directory.
/// <see cref="StopAsync"/> and <see cref="StartAsync"/> again reuse the same data and ports, so tests can
/// simulate an outage. Missing influxd is a failure, not a skip.
/// </summary>
public sealed class InfluxdServer : IAsyncDisposable
{
    private readonly string _influxd;
    private readonly string _configPath;
    private readonly HttpClient _http;
    private OwnedProcess? _process;

    private InfluxdServer(string influxd, string root, int httpPort, int rpcPort)
    {
        _influxd = influxd;
        Root = root;
        HttpPort = httpPort;
        RpcPort = rpcPort;
        Url = new Uri($"http://127.0.0.1:{httpPort}/");
        _configPath = Path.Combine(root, "influxdb.conf");
        File.WriteAllText(_configPath, Config());
        _http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Root { get; }
    public int HttpPort { get; }
    public int RpcPort { get; }
    public Uri Url { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What influxd printed so far (for failure messages).</summary>
    public string Output => _process?.Output ?? "";

    public static async Task<InfluxdServer> StartNewAsync()
    {
        var influxd = ExternalTool.Require("influxd");
        var root = Directory.CreateTempSubdirectory("seccm-influxd-").FullName;
        var httpPort = FreePort.Next();
        int rpcPort;
        do
        {
            rpcPort = FreePort.Next();
        }
        while (rpcPort == httpPort);
        var server = new InfluxdServer(influxd, root, httpPort, rpcPort);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts influxd (again) on the same data directory and ports and waits for /ping.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }
        _process?.Dispose();
        _process = ExternalTool.Start(_influxd, ["run", "-config", _configPath], Root,
            new Dictionary<string, string> { ["INFLUXDB_REPORTING_DISABLED"] = "true" });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var ping = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"influxd exited at start (code {_process.Process.ExitCode}): {_process.Output}");
            }
            try
            {
                using var response = await ping.GetAsync("ping");
                if ((int)response.StatusCode == 204)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"influxd did not answer /ping on {Url} within 60 s: {_process.Output}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Graceful stop (SIGTERM), falling back to SIGKILL; the data stays for the next start.</summary>
    public Task StopAsync()
    {
        if (_process is null)
        {
            return Task.CompletedTask;
        }
        return Task.Run(() =>
        {
            if (!_process.Terminate(TimeSpan.FromSeconds(30)))
            {
                _process.Kill();
            }
        });
    }

    /// <summary>Runs InfluxQL through /query (POST, so CREATE/DROP work too) and returns the JSON answer.</summary>
    public async Task<JsonDocument> QueryAsync(string database, string influxQl)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["db"] = database, ["q"] = influxQl, ["epoch"] = "ns" });
        using var response = await _http.PostAsync("query", form);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"influxd answered {(int)response.StatusCode} to '{influxQl}': {text}");
        }
        var doc = JsonDocument.Parse(text);
        foreach (var result in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            if (result.TryGetProperty("error", out var error))
            {
                throw new InvalidOperationException($"influxd: '{influxQl}' failed: {error.GetString()}");
            }
        }
        return doc;
    }

    /// <summary>The rows of the first series of the first result, as column name → value (empty if none).</summary>
    public async Task<List<Dictionary<string, JsonElement>>> RowsAsync(string database, string influxQl)
    {
        using var doc = await QueryAsync(database, influxQl);
        var rows = new List<Dictionary<string, JsonElement>>();
        var result = doc.RootElement.GetProperty("results")[0];
        if (!result.TryGetProperty("series", out var series))
        {
            return rows;
        }
        foreach (var s in series.EnumerateArray())
        {
            var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
            var tags = s.TryGetProperty("tags", out var t) ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()) : [];
            foreach (var v in s.GetProperty("values").EnumerateArray())
            {
                var row = new Dictionary<string, JsonElement>(tags);
                var i = 0;
                foreach (var cell in v.EnumerateArray())
                {
                    row[columns[i++]] = cell.Clone();
                }
                rows.Add(row);
            }
        }
        return rows;
    }

    /// <summary>Number of points of <paramref name="measurement"/> that have <paramref name="field"/> (0 if none).</summary>
    public async Task<long> CountAsync(string database, string measurement, string field)
    {
        var rows = await RowsAsync(database, $"SELECT COUNT(\"{field}\") FROM \"{measurement}\"");
        return rows.Count == 0 ? 0 : rows[0]["count"].GetInt64();
    }

    private string Config()
    {
        string P(string sub) => Path.Combine(Root, sub).Replace("\\", "/", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $"""
            reporting-disabled = true
            bind-address = "127.0.0.1:{RpcPort}"

            [meta]
              dir = "{P("meta")}"
              logging-enabled = false

            [data]
              dir = "{P("data")}"
              wal-dir = "{P("wal")}"
              query-log-enabled = false
              trace-logging-enabled = false

            [coordinator]
              log-queries-after = "0s"

            [retention]
              enabled = false

            [shard-precreation]
              enabled = false

            [monitor]
              store-enabled = false

            [http]
              enabled = true
              bind-address = "127.0.0.1:{HttpPort}"
              auth-enabled = false
              log-enabled = false
              write-tracing = false
              pprof-enabled = false
              max-body-size = 0

            [logging]
              level = "warn"

            [subscriber]
              enabled = false

            [[graphite]]
              enabled = false

            [[collectd]]
              enabled = false

            [[opentsdb]]
              enabled = false

            [[udp]]
              enabled = false

            [continuous_queries]
              enabled = false
            """);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await StopAsync();
            _process.Dispose();
        }
        _http.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
