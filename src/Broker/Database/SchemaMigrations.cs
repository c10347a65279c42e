namespace Broker.Database;

/// <summary>
/// The schema as an append-only list: migration N brings the schema from version N-1 to N. Never edit a released
/// entry; add a new one.
/// </summary>
internal static class SchemaMigrations
{
    public static IReadOnlyList<string> InOrder { get; } =
    [
        """
        CREATE TABLE deposits (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            size bigint NOT NULL,
            sha256 text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            served_by text NOT NULL
        )
        """,
    ];

    public static int LatestVersion => InOrder.Count;
}
