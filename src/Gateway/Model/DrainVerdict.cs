namespace Gateway.Model;

/// <summary>What a drain or undrain request leads to: the next set, whether anything changed, or a refusal (and nothing changes).</summary>
public sealed record DrainVerdict(DrainSet Next, bool Changed, string? Refusal)
{
    public bool IsRefused => Refusal is not null;
}
