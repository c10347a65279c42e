using Polly;
using Polly.Retry;

namespace Gateway.Coordinator.Supervision;

/// <summary>
/// How an interrupted site switch is tried again until it has finished: an attempt that ends with the switch still
/// unfinished (false) is retried after an exponential back-off with jitter, from <see cref="FirstDelay"/> up to
/// <see cref="MaxDelay"/>, for as long as it takes (writes stay held meanwhile; the alarm and the log say why).
/// </summary>
public static class ResumeRetry
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public static RetryStrategyOptions<bool> Options => new()
    {
        ShouldHandle = args => ValueTask.FromResult(args.Outcome is { Exception: null, Result: false }),
        MaxRetryAttempts = int.MaxValue,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = FirstDelay,
        MaxDelay = MaxDelay,
    };

    public static ResiliencePipeline<bool> Create(TimeProvider time, RetryStrategyOptions<bool>? options = null) =>
        new ResiliencePipelineBuilder<bool> { TimeProvider = time }.AddRetry(options ?? Options).Build();
}
