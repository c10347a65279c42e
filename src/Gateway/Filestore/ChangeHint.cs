namespace Gateway.Filestore;

/// <summary>
/// "This path may differ between source and target": from a change event or a reconcile. A hint is never trusted
/// as a description of the change; whoever handles it looks at both sides again and decides.
/// </summary>
/// <param name="Path">Relative to the replica root, '/'-separated.</param>
/// <param name="ContentChanged">The file was written: copy it even when size and time agree (two writes within one clock tick look alike).</param>
/// <param name="ScanSubtree">A directory appeared (created or moved in): what was put in it before it was watched is found by scanning it.</param>
/// <param name="RenamedFrom">The source renamed this entry from there; the target's copy under the old name can be renamed instead of copied again.</param>
internal sealed record ChangeHint(string Path, bool ContentChanged = false, bool ScanSubtree = false, string? RenamedFrom = null)
{
    public ChangeHint MergedWith(ChangeHint later) => new(
        Path,
        ContentChanged || later.ContentChanged,
        ScanSubtree || later.ScanSubtree,
        later.RenamedFrom ?? RenamedFrom);
}
