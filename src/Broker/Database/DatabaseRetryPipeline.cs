using Npgsql;
using Polly;
using Polly.Retry;

namespace Broker.Database;

/// <summary>Builds the retry policy every request-path database call runs under.</summary>
internal static class DatabaseRetryPipeline
{
    /// <summary>
    /// Eight exponentially growing, jittered retries from 100 ms capped at 1 s: about five seconds in all, enough to
    /// ride out a planned switchover (during which the gateway holds new sessions) without making a client wait
    /// much longer than a load balancer would.
    /// </summary>
    public static ResiliencePipeline Create(NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger logger) =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(DatabaseErrors.IsTransient),
                MaxRetryAttempts = 8,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(1),
                UseJitter = true,
                OnRetry = arguments =>
                {
                    var failure = arguments.Outcome.Exception!;
                    dataSource.ForgetConnectionsAfter(failure);
                    logger.LogWarning("Database call failed (attempt {Attempt}), retrying in {Delay} ms: {Reason}",
                        arguments.AttemptNumber + 1, (int)arguments.RetryDelay.TotalMilliseconds, DatabaseErrors.Describe(failure));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
}
