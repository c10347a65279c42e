namespace Broker.Configuration;

/// <summary>A configuration value is missing or unusable; the message names the key so an operator can fix it.</summary>
internal sealed class BrokerConfigurationException(string key, string problem)
    : Exception($"configuration error: {key}: {problem}")
{
    public string Key { get; } = key;
}
