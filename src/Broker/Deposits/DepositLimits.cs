namespace Broker.Deposits;

internal static class DepositLimits
{
    /// <summary>Enforced by Kestrel while the body streams in, so a too-large upload is cut off rather than stored.</summary>
    public const long MaxContentBytes = 64L * 1024 * 1024;

    public const int MaxNameLength = 255;
}
