namespace Broker.Deposits;

/// <summary>A deposit as recorded in the database; also the JSON shape of GET /deposits/{id}.</summary>
/// <param name="ServedBy">The instance that stored it (not necessarily the one answering now).</param>
internal sealed record Deposit(Guid Id, string Name, long Size, string Sha256, DateTimeOffset CreatedAt, string ServedBy);

/// <summary>The JSON answer to a successful POST /deposits.</summary>
internal sealed record DepositReceipt(Guid Id, string Name, long Size, string Sha256, string ServedBy);
