using Npgsql;
using Polly;

namespace Broker.Deposits;

/// <summary>Deposit rows in PostgreSQL. Every call runs under the retry pipeline, so every statement must be safe to repeat.</summary>
internal sealed class DepositRepository(NpgsqlDataSource dataSource, ResiliencePipeline retry)
{
    private const string Columns = "id, name, size, sha256, created_at, served_by";

    /// <summary>Records a deposit; a repeat of an insert that already landed (its reply lost to a failover) is a no-op.</summary>
    public Task InsertAsync(DepositReceipt receipt, CancellationToken cancellationToken) =>
        retry.ExecuteAsync(async token =>
        {
            await using var command = CreateCommand(
                "INSERT INTO deposits (id, name, size, sha256, served_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                receipt.Id, receipt.Name, receipt.Size, receipt.Sha256, receipt.ServedBy);
            await command.ExecuteNonQueryAsync(token);
        }, cancellationToken).AsTask();

    public async Task<Deposit?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        (await QueryAsync(cancellationToken, $"SELECT {Columns} FROM deposits WHERE id = $1", id)).SingleOrDefault();

    public Task<IReadOnlyList<Deposit>> ListAsync(PageRequest page, CancellationToken cancellationToken) =>
        page.After is { } after
            ? QueryAsync(cancellationToken, $"SELECT {Columns} FROM deposits WHERE id > $1 ORDER BY id LIMIT $2", after, page.Limit)
            : QueryAsync(cancellationToken, $"SELECT {Columns} FROM deposits ORDER BY id LIMIT $1", page.Limit);

    private Task<IReadOnlyList<Deposit>> QueryAsync(CancellationToken cancellationToken, string sql, params object[] values) =>
        retry.ExecuteAsync<IReadOnlyList<Deposit>>(async token =>
        {
            await using var command = CreateCommand(sql, values);
            await using var reader = await command.ExecuteReaderAsync(token);
            var deposits = new List<Deposit>();
            while (await reader.ReadAsync(token))
            {
                deposits.Add(new Deposit(
                    reader.GetGuid(0),
                    reader.GetString(1),
                    reader.GetInt64(2),
                    reader.GetString(3),
                    reader.GetFieldValue<DateTimeOffset>(4),
                    reader.GetString(5)));
            }

            return deposits;
        }, cancellationToken).AsTask();

    /// <summary>A fresh command per attempt, with positional parameters ($1, $2, ...) typed from the values.</summary>
    private NpgsqlCommand CreateCommand(string sql, params object[] values)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
