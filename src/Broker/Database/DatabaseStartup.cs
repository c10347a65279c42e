using Npgsql;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Broker.Database;

/// <summary>
/// Waits, within a bound, for the database to be reachable and migrates it. Instances are often started together
/// with (or before) the database and the gateway's PostgreSQL endpoint, so "not reachable yet" is normal at start.
/// </summary>
internal sealed class DatabaseStartup(SchemaMigrator migrator, NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger<DatabaseStartup> logger)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PauseBetweenAttempts = TimeSpan.FromSeconds(1);

    /// <summary>Returns false when the database stayed unreachable for <see cref="WaitLimit"/> or refused us for good.</summary>
    public async Task<bool> WaitAndMigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await BuildPipeline().ExecuteAsync(async token => await migrator.MigrateAsync(token), cancellationToken);
            return true;
        }
        catch (TimeoutRejectedException)
        {
            logger.LogCritical("Database still unreachable after {Seconds} s; giving up", WaitLimit.TotalSeconds);
            return false;
        }
        catch (NpgsqlException failure)
        {
            // Not worth waiting for (bad credentials, a broken migration): waiting would only delay the same error.
            logger.LogCritical("Cannot prepare the database: {Reason}", DatabaseErrors.Describe(failure));
            return false;
        }
    }

    private ResiliencePipeline BuildPipeline() =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddTimeout(WaitLimit)
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(IsWorthWaitingFor),
                MaxRetryAttempts = int.MaxValue, // the timeout above is the bound
                BackoffType = DelayBackoffType.Constant,
                Delay = PauseBetweenAttempts,
                OnRetry = arguments =>
                {
                    var failure = arguments.Outcome.Exception!;
                    dataSource.ForgetConnectionsAfter(failure);
                    logger.LogWarning("Database not ready (attempt {Attempt}): {Reason}", arguments.AttemptNumber + 1, DatabaseErrors.Describe(failure));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    /// <summary>Transient failures, plus a database that deployment has not created yet.</summary>
    private static bool IsWorthWaitingFor(NpgsqlException exception) =>
        DatabaseErrors.IsTransient(exception) || exception is PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName };
}
