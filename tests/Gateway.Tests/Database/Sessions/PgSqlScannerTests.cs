using System.Text;
using Gateway.Database.Sessions;

namespace Gateway.Tests.Database.Sessions;

public sealed class PgSqlScannerTests
{
    private static List<SqlEffect> Scan(string sql)
    {
        var effects = new List<SqlEffect>();
        PgSqlScanner.Scan(Encoding.UTF8.GetBytes(sql), effects);
        return effects;
    }

    [Theory]
    [InlineData("SET search_path TO app, public", "search_path", "SET search_path TO app, public")]
    [InlineData("set Statement_Timeout = '5s'", "statement_timeout", "set Statement_Timeout = '5s'")]
    [InlineData("SET SESSION work_mem = '64MB'", "work_mem", "SET SESSION work_mem = '64MB'")]
    [InlineData("SET TIME ZONE 'UTC'", "timezone", "SET TIME ZONE 'UTC'")]
    [InlineData("SET NAMES 'UTF8'", "client_encoding", "SET NAMES 'UTF8'")]
    [InlineData("SET SCHEMA 'app'", "search_path", "SET SCHEMA 'app'")]
    [InlineData("SET myapp.tenant = '42'", "myapp.tenant", "SET myapp.tenant = '42'")]
    [InlineData("SET \"Application_Name\" = x", "Application_Name", "SET \"Application_Name\" = x")]
    [InlineData("  /* leading */ SET application_name = 'a;b' -- trailing", "application_name", "SET application_name = 'a;b'")]
    [InlineData("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", "session characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE")]
    public void A_session_level_set_is_reported_with_its_setting_and_the_statement_to_repeat(string sql, string name, string statement) =>
        Assert.Equal([new SqlEffect(SqlEffectKind.Set, name, statement)], Scan(sql));

    [Theory]
    [InlineData("SET LOCAL work_mem = '1GB'")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")]
    [InlineData("SET CONSTRAINTS ALL DEFERRED")]
    [InlineData("SELECT 'SET work_mem = 1'")]
    [InlineData("-- SET work_mem = 1\nSELECT 1")]
    [InlineData("/* SET /* nested */ work_mem = 1 */ SELECT 1")]
    [InlineData("SELECT $$SET work_mem = 1; LISTEN x$$")]
    [InlineData("SELECT $fn$ LISTEN x $fn$, $1")]
    [InlineData("SELECT E'it\\'s; LISTEN x'")]
    [InlineData("SELECT \"LISTEN\" FROM t")]
    [InlineData("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 5")]
    [InlineData("SELECT pg_advisory_xact_lock(1)")]
    [InlineData("CREATE TABLE temperatures (t int)")]
    [InlineData("DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1")]
    [InlineData("PREPARE TRANSACTION 'x'")]
    [InlineData("")]
    [InlineData(";;;")]
    public void Statements_that_change_nothing_beyond_the_transaction_report_nothing(string sql) => Assert.Empty(Scan(sql));

    [Theory]
    [InlineData("CREATE TEMP TABLE t (id int)", SqlEffectKind.TemporaryObject)]
    [InlineData("create global temporary table t (id int)", SqlEffectKind.TemporaryObject)]
    [InlineData("CREATE OR REPLACE TEMP VIEW v AS SELECT 1", SqlEffectKind.TemporaryObject)]
    [InlineData("CREATE TABLE pg_temp.t (id int)", SqlEffectKind.TemporaryObject)]
    [InlineData("SELECT * INTO TEMP t FROM x", SqlEffectKind.TemporaryObject)]
    [InlineData("LISTEN jobs", SqlEffectKind.Listen)]
    [InlineData("UNLISTEN *", SqlEffectKind.UnlistenAll)]
    [InlineData("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1", SqlEffectKind.HoldCursor)]
    [InlineData("CLOSE ALL", SqlEffectKind.CloseAllCursors)]
    [InlineData("SELECT pg_advisory_lock(42)", SqlEffectKind.AdvisoryLock)]
    [InlineData("select PG_TRY_ADVISORY_LOCK_SHARED(1, 2)", SqlEffectKind.AdvisoryLock)]
    [InlineData("SELECT pg_catalog.pg_advisory_lock (7)", SqlEffectKind.AdvisoryLock)]
    [InlineData("SELECT pg_advisory_unlock_all()", SqlEffectKind.AdvisoryUnlockAll)]
    [InlineData("SET ROLE reporting", SqlEffectKind.SetRole)]
    [InlineData("SET SESSION AUTHORIZATION alice", SqlEffectKind.SetRole)]
    [InlineData("SET ROLE NONE", SqlEffectKind.ResetRole)]
    [InlineData("RESET ROLE", SqlEffectKind.ResetRole)]
    [InlineData("SET SESSION AUTHORIZATION DEFAULT", SqlEffectKind.ResetRole)]
    [InlineData("DISCARD ALL", SqlEffectKind.DiscardAll)]
    [InlineData("DISCARD TEMP", SqlEffectKind.DiscardTemp)]
    [InlineData("RESET ALL", SqlEffectKind.ResetAll)]
    [InlineData("DEALLOCATE ALL", SqlEffectKind.DeallocateAll)]
    public void Each_statement_that_changes_the_session_is_recognised(string sql, SqlEffectKind kind) =>
        Assert.Equal(kind, Assert.Single(Scan(sql)).Kind);

    [Fact]
    public void Reset_deallocate_and_prepare_name_what_they_act_on()
    {
        Assert.Equal([new SqlEffect(SqlEffectKind.Reset, "search_path")], Scan("RESET search_path"));
        Assert.Equal([new SqlEffect(SqlEffectKind.Reset, "timezone")], Scan("RESET TIME ZONE"));
        Assert.Equal([new SqlEffect(SqlEffectKind.Deallocate, "q1")], Scan("DEALLOCATE PREPARE q1"));
        Assert.Equal([new SqlEffect(SqlEffectKind.Prepare, "q2", "PREPARE q2 (int) AS SELECT $1")], Scan("PREPARE q2 (int) AS SELECT $1;"));
    }

    [Fact]
    public void Npgsqls_reset_of_a_pooled_connection_undoes_everything_it_names()
    {
        var effects = Scan("SET SESSION AUTHORIZATION DEFAULT;RESET ALL;CLOSE ALL;UNLISTEN *;SELECT pg_advisory_unlock_all();DISCARD SEQUENCES;DISCARD TEMP");

        Assert.Equal(
            [SqlEffectKind.ResetRole, SqlEffectKind.ResetAll, SqlEffectKind.CloseAllCursors, SqlEffectKind.UnlistenAll, SqlEffectKind.AdvisoryUnlockAll, SqlEffectKind.DiscardTemp],
            effects.Select(e => e.Kind));
    }

    [Fact]
    public void Every_statement_of_a_multi_statement_query_counts()
    {
        var effects = Scan("BEGIN; SET search_path = a; LISTEN x; SELECT ';' ; SET work_mem = '8MB'; COMMIT");

        Assert.Equal(["search_path", null, "work_mem"], effects.Select(e => e.Name));
    }

    [Fact]
    public void Unterminated_strings_comments_and_dollar_quotes_end_the_scan_without_failing()
    {
        foreach (var sql in new[] { "SELECT 'open", "SELECT /* open", "SELECT $x$ open", "SELECT \"open", "SET", "RESET", "SET SESSION", "DEALLOCATE", "$", "E'\\" })
        {
            _ = Scan(sql);
        }

        Assert.Empty(Scan("SELECT 'x; LISTEN y"));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(16);
        var bytes = new byte[300];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(bytes);
            var effects = new List<SqlEffect>();
            PgSqlScanner.Scan(bytes.AsSpan(0, random.Next(bytes.Length)), effects);
        }
    }
}
