namespace Gateway.Operations;

/// <summary>One journaled step: its sentence, when it began, how long it took, how it ended, and its stable id when it has one (a site switch's steps do).</summary>
public sealed record StepRecord(string Step, DateTimeOffset StartedAt, TimeSpan Duration, string Outcome, string? Id = null);
