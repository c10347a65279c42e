using Npgsql;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Gateway.Database.Failover;

/// <summary>Timeout and retries for one SQL action on a node: a node mid-restart or a dropped pooled connection gets a few more tries, a dead one fails fast.</summary>
public static class NodeActionPipeline
{
    public static ResiliencePipeline Create(TimeProvider time, TimeSpan attemptTimeout) => new ResiliencePipelineBuilder { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<TimeoutRejectedException>(),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
        })
        .AddTimeout(attemptTimeout)
        .Build();
}
