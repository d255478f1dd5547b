using Microsoft.Extensions.Logging;
using Seccm.Storage.Backends;
using Seccm.Storage.Sink;

namespace Seccm.Storage;

/// <summary>Turns validated <see cref="StorageOptions"/> into a backend and a sink.</summary>
internal static class StorageFactory
{
    public static ILineProtocolWriter CreateWriter(StorageOptions options, TimeProvider time)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid storage configuration: " + string.Join(" ", errors));
        }
        var timeout = TimeSpan.FromMilliseconds(options.RequestTimeoutMs);
        return options.NormalizedKind switch
        {
            StorageOptions.KindInfluxDb2 => new InfluxDb2Writer(new Uri(options.Url!), options.Org!, options.Bucket!, options.Token!, timeout),
            StorageOptions.KindInfluxDb1 => new InfluxDb1Writer(new Uri(options.Url!), options.Database!, options.Username, options.Password, timeout),
            _ => new LineProtocolFileWriter(options.Directory, options.MaxFileBytes, time),
        };
    }

    /// <summary>A sink whose flush loop is not started yet (the hosted service or the caller starts it).</summary>
    public static BufferedSink CreateSink(StorageOptions options, TimeProvider time, ILogger logger) =>
        new(CreateWriter(options, time), SinkSettings.From(options), time, logger);
}
