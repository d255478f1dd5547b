using System.Net;
using System.Text;
using Seccm.Storage.Backends;
using Seccm.TestSupport;

namespace Seccm.Storage.Tests.Backends;

/// <summary>
/// No InfluxDB 2.x server exists on this machine (Debian ships 1.6), so the v2 request path is checked
/// against a small HttpListener that records /api/v2/write requests.
/// </summary>
public sealed class InfluxDb2WriterTests
{
    [Fact]
    public async Task Posts_line_protocol_to_api_v2_write_with_org_bucket_precision_and_token()
    {
        await using var server = V2Recorder.Start(_ => 204);
        await using var writer = new InfluxDb2Writer(server.Url, "lab", "seccm", "secret-token", TimeSpan.FromSeconds(10));
        var lines = new[]
        {
            Points.New(Measurements.Glovebox, "seccm-01", "glovebox", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)).Field("o2_ppm", 0.3).ToLineProtocol(),
            Points.New(Measurements.Glovebox, "seccm-01", "glovebox", new DateTimeOffset(2026, 1, 2, 3, 4, 6, TimeSpan.Zero)).Field("o2_ppm", 0.4).ToLineProtocol(),
        };

        var outcome = await writer.WriteAsync(lines, CancellationToken.None);

        Assert.Equal(WriteOutcomeKind.Ok, outcome.Kind);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/v2/write", request.Path);
        Assert.Equal("lab", request.Query["org"]);
        Assert.Equal("seccm", request.Query["bucket"]);
        Assert.Equal("ns", request.Query["precision"]);
        Assert.Equal("Token secret-token", request.Authorization);
        Assert.Equal(lines, request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(503, true)]
    [InlineData(500, true)]
    [InlineData(429, true)]
    [InlineData(401, true)]
    [InlineData(400, false)]
    [InlineData(422, false)]
    public async Task Classifies_server_answers(int status, bool retryLater)
    {
        await using var server = V2Recorder.Start(_ => status);
        await using var writer = new InfluxDb2Writer(server.Url, "lab", "seccm", "t", TimeSpan.FromSeconds(10));

        var outcome = await writer.WriteAsync(["m f=1 1"], CancellationToken.None);

        Assert.Equal(retryLater ? WriteOutcomeKind.Retry : WriteOutcomeKind.Reject, outcome.Kind);
        Assert.Contains("bucket 'seccm'", outcome.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_means_retry()
    {
        var port = FreePort.Next();
        await using var writer = new InfluxDb2Writer(new Uri($"http://127.0.0.1:{port}"), "lab", "seccm", "t", TimeSpan.FromSeconds(5));

        var outcome = await writer.WriteAsync(["m f=1 1"], CancellationToken.None);

        Assert.Equal(WriteOutcomeKind.Retry, outcome.Kind);
    }

    internal sealed record RecordedRequest(string Method, string Path, System.Collections.Specialized.NameValueCollection Query, string? Authorization, string Body);

    /// <summary>HttpListener on 127.0.0.1 that records requests and answers with a chosen status.</summary>
    internal sealed class V2Recorder : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<RecordedRequest, int> _status;
        private readonly Task _loop;
        private readonly List<RecordedRequest> _requests = [];

        private V2Recorder(int port, Func<RecordedRequest, int> status)
        {
            Url = new Uri($"http://127.0.0.1:{port}/");
            _status = status;
            _listener.Prefixes.Add(Url.AbsoluteUri);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public Uri Url { get; }

        public List<RecordedRequest> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        public static V2Recorder Start(Func<RecordedRequest, int> status) => new(FreePort.Next(), status);

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var recorded = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath,
                    context.Request.QueryString, context.Request.Headers["Authorization"], body);
                lock (_requests)
                {
                    _requests.Add(recorded);
                }
                var status = _status(recorded);
                context.Response.StatusCode = status;
                if (status >= 400)
                {
                    var error = Encoding.UTF8.GetBytes($"{{\"code\":\"invalid\",\"message\":\"status {status} from recorder\"}}");
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(error);
                }
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
