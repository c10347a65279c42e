namespace Gateway.Configuration;

/// <summary>One problem in the configuration, named by its full key (Gateway:Sites:1:SanPath) so an operator can find it.</summary>
public sealed record ConfigurationError(string Key, string Problem)
{
    public override string ToString() => $"{Key}: {Problem}";
}

/// <summary>Thrown when the configuration cannot be used; carries every problem found, not just the first.</summary>
public sealed class InvalidConfigurationException(IReadOnlyList<ConfigurationError> errors)
    : Exception("invalid configuration:" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e)))
{
    public IReadOnlyList<ConfigurationError> Errors { get; } = errors;
}
