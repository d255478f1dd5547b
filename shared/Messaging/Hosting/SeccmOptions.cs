using System.ComponentModel.DataAnnotations;

namespace Seccm.Messaging.Hosting;

/// <summary>Top-level settings: which instrument this process serves.</summary>
public sealed class SeccmOptions
{
    /// <summary>Instrument id, the second level of every topic (<c>Instrument</c>, env <c>SECCM__INSTRUMENT</c>).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "Instrument must be 1-64 letters, digits, '-', '_' or '.' (it becomes a topic segment).")]
    public string Instrument { get; set; } = "sim1";

    /// <summary>Distinguishes several processes of the same service (e.g. diffusion workers); part of the MQTT client id.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{0,32}$", ErrorMessage = "WorkerId must be up to 32 letters, digits, '-', '_' or '.'.")]
    public string? WorkerId { get; set; }
}

/// <summary>How to reach the MQTT broker (section <c>Mqtt</c>, env <c>SECCM__MQTT__HOST</c> etc.).</summary>
public sealed class MqttOptions
{
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535, ErrorMessage = "Mqtt:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 1883;

    public string? Username { get; set; }

    /// <summary>Prefer <see cref="PasswordFile"/> in deployments: it keeps the secret out of the environment.</summary>
    public string? Password { get; set; }

    /// <summary>A file whose first line is the password (docker secrets).</summary>
    public string? PasswordFile { get; set; }

    public bool UseTls { get; set; }

    /// <summary>PEM file of the CA that signed the broker's certificate (TLS).</summary>
    public string? CaFile { get; set; }

    [Range(1, 3600, ErrorMessage = "Mqtt:KeepAliveSeconds must be between 1 and 3600.")]
    public int KeepAliveSeconds { get; set; } = 5;

    /// <summary>How long the broker keeps a disconnected service's session and its queued QoS 1 messages.</summary>
    [Range(0, 7 * 24 * 3600, ErrorMessage = "Mqtt:SessionExpirySeconds must be between 0 and 604800.")]
    public int SessionExpirySeconds { get; set; } = 24 * 3600;

    /// <summary>Messages a service may queue while the broker is away before publishers wait.</summary>
    [Range(100, 10_000_000, ErrorMessage = "Mqtt:MaxQueuedMessages must be between 100 and 10000000.")]
    public int MaxQueuedMessages { get; set; } = 100_000;

    internal string? ResolvePassword()
    {
        if (!string.IsNullOrEmpty(PasswordFile))
        {
            if (!File.Exists(PasswordFile))
            {
                throw new InvalidOperationException($"Mqtt:PasswordFile '{PasswordFile}' does not exist.");
            }
            return File.ReadLines(PasswordFile).FirstOrDefault()?.Trim();
        }
        return Password;
    }
}
