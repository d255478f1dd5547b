namespace Seccm.Devices;

/// <summary>A device said or did something a driver cannot accept. The message says what and on which port.</summary>
public class DeviceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The device did not answer in time.</summary>
public sealed class DeviceTimeoutException(string message) : DeviceException(message);

/// <summary>The device answered with bytes that do not follow its protocol.</summary>
public sealed class DeviceProtocolException(string message) : DeviceException(message);
