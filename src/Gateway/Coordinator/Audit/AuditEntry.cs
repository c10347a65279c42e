namespace Gateway.Coordinator.Audit;

/// <summary>
/// One audited admin call, one line of audit.jsonl: when, from which address, what was asked (the body's first
/// <see cref="AuditLog.MaxBodyBytes"/> bytes; the token travels in a header and is never recorded) and how it ended.
/// </summary>
public sealed record AuditEntry(
    DateTimeOffset Time, string Caller, string Method, string Path, string? Body, bool BodyTruncated, int Status, string Result);
