using Microsoft.Extensions.Options;

namespace Seccm.Storage;

/// <summary>
/// The "Storage" configuration section (environment: SECCM__STORAGE__KIND, SECCM__STORAGE__URL, ...).
/// Kind picks the backend: influxdb2 (v2/v3 API: Url, Org, Bucket, Token), influxdb1 (/write: Url, Database,
/// optional Username/Password) or files (line-protocol files under Directory, the default).
/// </summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    public const string KindInfluxDb2 = "influxdb2";
    public const string KindInfluxDb1 = "influxdb1";
    public const string KindFiles = "files";

    /// <summary>influxdb2 | influxdb1 | files.</summary>
    public string Kind { get; set; } = KindFiles;

    public string? Url { get; set; }
    public string? Org { get; set; }
    public string? Bucket { get; set; }
    public string? Token { get; set; }
    public string? Database { get; set; }
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>Root of the line-protocol files (files backend): one sub-directory per UTC day.</summary>
    public string Directory { get; set; } = "./seccm-data/timeseries";

    /// <summary>A file is closed and a new one started past this size (files backend).</summary>
    public long MaxFileBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Points per request to the database.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>A partial batch goes out after this long.</summary>
    public int FlushIntervalMs { get; set; } = 1000;

    /// <summary>Longest wait between attempts while the database is away (backoff doubles up to this).</summary>
    public int MaxRetryDelayMs { get; set; } = 5000;

    /// <summary>Per-request timeout to the database.</summary>
    public int RequestTimeoutMs { get; set; } = 10_000;

    /// <summary>How long a graceful shutdown may spend sending before it leaves the rest in the disk buffer.</summary>
    public int ShutdownTimeoutMs { get; set; } = 5000;

    /// <summary>Points held in memory at most; beyond that they go straight to the disk buffer.</summary>
    public int MaxPendingPoints { get; set; } = 50_000;

    /// <summary>Disk buffer for outages (one slot sub-directory per running sink).</summary>
    public string BufferDirectory { get; set; } = "./seccm-data/buffer";

    /// <summary>Disk buffer size limit; past it the oldest segments are dropped (and logged).</summary>
    public long MaxBufferBytes { get; set; } = 1L * 1024 * 1024 * 1024;

    /// <summary>Every problem with these settings, each naming its configuration key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var kind = Kind?.Trim().ToLowerInvariant();
        switch (kind)
        {
            case KindInfluxDb2:
                RequireUrl(errors);
                Require(errors, Org, "Org", "the InfluxDB organisation");
                Require(errors, Bucket, "Bucket", "the bucket to write to");
                Require(errors, Token, "Token", "an API token with write access to the bucket");
                break;
            case KindInfluxDb1:
                RequireUrl(errors);
                Require(errors, Database, "Database", "the database to write to (created if missing)");
                if (string.IsNullOrWhiteSpace(Username) != string.IsNullOrWhiteSpace(Password))
                {
                    errors.Add("Storage:Username and Storage:Password must be given together (or neither).");
                }
                break;
            case KindFiles:
                Require(errors, Directory, "Directory", "the folder for line-protocol files");
                if (MaxFileBytes < 1024)
                {
                    errors.Add($"Storage:MaxFileBytes is {MaxFileBytes}; it must be at least 1024.");
                }
                break;
            default:
                errors.Add($"Storage:Kind is '{Kind}'; it must be one of influxdb2, influxdb1, files.");
                break;
        }
        Positive(errors, BatchSize, "BatchSize");
        Positive(errors, FlushIntervalMs, "FlushIntervalMs");
        Positive(errors, MaxRetryDelayMs, "MaxRetryDelayMs");
        Positive(errors, RequestTimeoutMs, "RequestTimeoutMs");
        Positive(errors, ShutdownTimeoutMs, "ShutdownTimeoutMs");
        if (MaxPendingPoints < BatchSize)
        {
            errors.Add($"Storage:MaxPendingPoints ({MaxPendingPoints}) must be at least Storage:BatchSize ({BatchSize}).");
        }
        Require(errors, BufferDirectory, "BufferDirectory", "the folder for the outage buffer");
        if (MaxBufferBytes < 1024 * 1024)
        {
            errors.Add($"Storage:MaxBufferBytes is {MaxBufferBytes}; it must be at least 1048576 (1 MiB).");
        }
        return errors;
    }

    internal string NormalizedKind => Kind.Trim().ToLowerInvariant();

    private void RequireUrl(List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            errors.Add($"Storage:Url is required for Storage:Kind={Kind.Trim()} (e.g. http://localhost:8086).");
        }
        else if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"Storage:Url '{Url}' is not an http:// or https:// address.");
        }
    }

    private void Require(List<string> errors, string? value, string key, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"Storage:{key} is required for Storage:Kind={Kind.Trim()}: {what}.");
        }
    }

    private static void Positive(List<string> errors, long value, string key)
    {
        if (value <= 0)
        {
            errors.Add($"Storage:{key} is {value}; it must be greater than 0.");
        }
    }
}

/// <summary>Runs <see cref="StorageOptions.Validate"/> at start-up so a bad setting stops the host with its message.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
