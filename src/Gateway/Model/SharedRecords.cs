namespace Gateway.Model;

/// <summary>
/// Where the gateways of a cluster keep the records every one of them must be able to read (the operation history,
/// the audit log), besides each gateway's own local file. Absent when the gateway runs alone: the local file is then
/// the whole record. Entries are JSON documents appended to a named log and never changed.
/// </summary>
public interface ISharedRecords
{
    /// <summary>Appends <paramref name="entry"/> to <paramref name="log"/>; false (logged and counted by the store) when it could not be stored.</summary>
    bool Append(string log, string entry);

    /// <summary>The newest <paramref name="count"/> entries of <paramref name="log"/>, oldest first; null (logged) when they cannot be read now.</summary>
    IReadOnlyList<string>? ReadNewest(string log, int count);
}
