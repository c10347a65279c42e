using Broker.Database;
using Npgsql;

namespace Broker.Health;

/// <summary>Is the database answering right now? One pooled <c>SELECT 1</c>, no retries: the gateway asks again in 500 ms.</summary>
internal sealed class DatabaseProbe(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);

    /// <summary>Returns why the database is unusable, or null when it answered in time.</summary>
    public async Task<string?> FindProblemAsync(CancellationToken requestAborted)
    {
        using var budget = new CancellationTokenSource(Budget, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, requestAborted);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(linked.Token);
            return null;
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            return $"database did not answer within {Budget.TotalSeconds:0} s";
        }
        catch (NpgsqlException failure)
        {
            dataSource.ForgetConnectionsAfter(failure);
            return $"database: {DatabaseErrors.Describe(failure)}";
        }
    }
}
