using Gateway.Database.Sessions;
using static Gateway.Tests.Database.Sessions.PgMessages;

namespace Gateway.Tests.Database.Sessions;

public sealed class PgSessionStateTests
{
    private readonly PgSessionState _state = new(PgStartupPacket.Parse(PgStartupPacket.Build(("user", "app"), ("database", "shop")), out _)!);

    private ClientStep Client(byte[] message) => _state.OnClientMessage(message[0], Body(message));

    private bool Server(byte[] message) => _state.OnServerMessage(message[0], Body(message));

    /// <summary>A simple query answered: its command tag, then ReadyForQuery with the status.</summary>
    private void SimpleQuery(string sql, string tag, char status)
    {
        Client(Query(sql));
        Server(CommandComplete(tag));
        Server(ReadyForQuery(status));
    }

    [Fact]
    public void A_session_is_idle_only_with_nothing_in_flight_and_no_transaction_open()
    {
        Assert.True(_state.IsIdle);

        Client(Query("BEGIN"));
        Assert.False(_state.IsIdle);
        Server(CommandComplete("BEGIN"));
        Server(ReadyForQuery('T'));
        Assert.False(_state.IsIdle);
        Assert.False(_state.RequestInFlight);

        Client(Query("SELECT 1/0"));
        Server(Error());
        Server(ReadyForQuery('E'));
        Assert.Equal('E', _state.TransactionStatus);
        Assert.False(_state.IsIdle);

        SimpleQuery("ROLLBACK", "ROLLBACK", 'I');
        Assert.True(_state.IsIdle);
    }

    [Fact]
    public void Extended_messages_keep_the_session_busy_from_the_first_one_until_the_syncs_answer()
    {
        Client(Parse("", "SELECT 1"));
        Assert.True(_state.RequestInFlight);
        Client(Bind(""));
        Client(Execute());
        Client(Sync());
        // Pipelined: a second batch before the first is answered.
        Client(Parse("", "SELECT 2"));
        Client(Bind(""));
        Client(Execute());
        Client(Sync());

        Server(ParseComplete());
        Server(ReadyForQuery('I'));
        Assert.False(_state.IsIdle);
        Server(ParseComplete());
        Server(ReadyForQuery('I'));
        Assert.True(_state.IsIdle);
    }

    [Fact]
    public void A_named_statement_counts_once_the_server_confirms_it_and_a_failed_one_never()
    {
        Client(Parse("good", "SELECT 1"));
        Client(Sync());
        Server(ParseComplete());
        Server(ReadyForQuery('I'));

        Client(Parse("bad", "SELEC 1"));
        Client(Bind("bad"));
        Client(Sync());
        Server(Error("42601"));
        Server(ReadyForQuery('I'));

        Assert.Equal(1, _state.PreparedStatementCount);
        Assert.True(_state.IsIdle);
    }

    [Fact]
    public void On_a_new_server_a_statement_is_prepared_again_just_before_the_first_bind_that_needs_it_and_its_answer_is_kept_from_the_client()
    {
        var parse = Parse("q1", "SELECT $1::int");
        Client(parse);
        Client(Parse("q2", "SELECT 2"));
        Client(Sync());
        Server(ParseComplete());
        Server(ParseComplete());
        Server(ReadyForQuery('I'));

        _state.StartOnNewServer();
        Assert.Equal(["q1", "q2"], _state.StatementsMissingOnServer.Order());

        Assert.Equal(parse, Client(Bind("q1")).InjectFirst);
        Assert.Null(Client(Execute()).InjectFirst);
        Assert.Null(Client(Bind("q1")).InjectFirst);
        Client(Sync());
        Assert.False(Server(ParseComplete()));
        Assert.True(Server(PgWire.Message(PgWire.Backend.BindComplete, [])));
        Server(ReadyForQuery('I'));

        Assert.Equal(["q2"], _state.StatementsMissingOnServer);
        Assert.NotNull(Client(DescribeStatement("q2")).InjectFirst);
    }

    [Fact]
    public void A_re_prepare_that_fails_leaves_the_statement_missing_for_the_next_bind()
    {
        Client(Parse("q1", "SELECT * FROM gone"));
        Client(Sync());
        Server(ParseComplete());
        Server(ReadyForQuery('I'));
        _state.StartOnNewServer();

        Assert.NotNull(Client(Bind("q1")).InjectFirst);
        Client(Sync());
        Server(Error());
        Server(ReadyForQuery('I'));

        Assert.Equal(["q1"], _state.StatementsMissingOnServer);
        Assert.NotNull(Client(Bind("q1")).InjectFirst);
    }

    [Fact]
    public void Close_and_deallocate_forget_statements_and_discard_all_forgets_everything()
    {
        Client(Parse("a", "SELECT 1"));
        Client(Parse("b", "SELECT 2"));
        Client(Parse("c", "SELECT 3"));
        Client(Sync());
        Server(ParseComplete());
        Server(ParseComplete());
        Server(ParseComplete());
        Server(ReadyForQuery('I'));

        Client(CloseStatement("a"));
        Client(Sync());
        Server(CloseComplete());
        Server(ReadyForQuery('I'));
        Assert.Equal(2, _state.PreparedStatementCount);

        SimpleQuery("DEALLOCATE b", "DEALLOCATE", 'I');
        Assert.Equal(1, _state.PreparedStatementCount);

        SimpleQuery("SET search_path = x", "SET", 'I');
        SimpleQuery("DISCARD ALL", "DISCARD ALL", 'I');
        Assert.Equal(0, _state.PreparedStatementCount);
        Assert.Empty(_state.RestoreStatements);
    }

    [Fact]
    public void Settings_hold_once_committed_and_are_forgotten_when_their_transaction_fails_or_rolls_back()
    {
        SimpleQuery("SET search_path = app", "SET", 'I');
        SimpleQuery("BEGIN; SET work_mem = '8MB'", "SET", 'T');
        Assert.Equal(["SET search_path = app"], _state.RestoreStatements);
        SimpleQuery("COMMIT", "COMMIT", 'I');
        Assert.Equal(["SET search_path = app", "SET work_mem = '8MB'"], _state.RestoreStatements);

        SimpleQuery("BEGIN; SET statement_timeout = 1", "SET", 'T');
        SimpleQuery("ROLLBACK", "ROLLBACK", 'I');
        Client(Query("SET lock_timeout = 1; SELECT 1/0"));
        Server(Error("22012"));
        Server(ReadyForQuery('I'));

        SimpleQuery("SET search_path = other", "SET", 'I');
        SimpleQuery("RESET work_mem", "RESET", 'I');
        Assert.Equal(["SET search_path = other"], _state.RestoreStatements);
        SimpleQuery("PREPARE p AS SELECT 1", "PREPARE", 'I');
        Assert.Equal(["SET search_path = other", "PREPARE p AS SELECT 1"], _state.RestoreStatements);
        SimpleQuery("RESET ALL", "RESET", 'I');
        Assert.Equal(["PREPARE p AS SELECT 1"], _state.RestoreStatements);
    }

    [Fact]
    public void A_set_sent_through_the_extended_protocol_counts_as_well()
    {
        Client(Parse("", "SET application_name = 'worker'"));
        Client(Bind(""));
        Client(Execute());
        Client(Sync());
        Server(ParseComplete());
        Server(CommandComplete("SET"));
        Server(ReadyForQuery('I'));

        Assert.Equal(["SET application_name = 'worker'"], _state.RestoreStatements);
    }

    [Fact]
    public void State_that_cannot_move_counts_at_once_and_stops_counting_once_undone()
    {
        SimpleQuery("CREATE TEMP TABLE t (id int)", "CREATE TABLE", 'I');
        SimpleQuery("LISTEN jobs", "LISTEN", 'I');
        SimpleQuery("SELECT pg_advisory_lock(1)", "SELECT 1", 'I');
        Assert.Equal(UnmovableState.TemporaryObjects | UnmovableState.Listen | UnmovableState.AdvisoryLocks, _state.Unmovable);

        SimpleQuery("UNLISTEN *", "UNLISTEN", 'I');
        SimpleQuery("SELECT pg_advisory_unlock_all()", "SELECT 1", 'I');
        Assert.Equal(UnmovableState.TemporaryObjects, _state.Unmovable);
        SimpleQuery("DISCARD ALL", "DISCARD ALL", 'I');
        Assert.Equal(UnmovableState.None, _state.Unmovable);

        SimpleQuery("SET ROLE reporting", "SET", 'I');
        Assert.Equal(UnmovableState.Role, _state.Unmovable);
        _state.ConfirmUnmovable(UnmovableState.None);
        Assert.Equal(UnmovableState.None, _state.Unmovable);
    }

    [Fact]
    public void What_the_server_reports_is_kept_for_the_client()
    {
        Server(PgWire.ParameterStatus("application_name", "worker"));
        Server(PgWire.ParameterStatus("TimeZone", "UTC"));
        Server(PgWire.ParameterStatus("application_name", "worker 2"));

        Assert.Equal("worker 2", _state.ServerParameters["application_name"]);
        Assert.Equal(2, _state.ServerParameters.Count);
    }

    [Fact]
    public void A_replication_connection_never_moves()
    {
        var replication = new PgSessionState(PgStartupPacket.Parse(PgStartupPacket.Build(("user", "r"), ("replication", "database")), out _)!);

        Assert.Equal(UnmovableState.Replication, replication.Unmovable);
    }
}
