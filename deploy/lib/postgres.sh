# shellcheck shell=bash
# PostgreSQL steps of the demo: a primary (A) and a streaming standby of it (B), both on 127.0.0.1.
# Expects demo.sh's settings (STATE, PG_BIN, PG_DIR, PG_SOCKET_DIR, LOG_DIR, SECRETS_DIR, ports).

# Runs a PostgreSQL tool as the postgres user (the server refuses to run as root), from a directory
# that user can enter. Extra environment for the tool can be passed with `env` before the command.
as_postgres() {
    (cd / && runuser -u postgres -- "$@")
}

pg_data_dir() { printf '%s/%s\n' "$PG_DIR" "$1"; }          # pg_data_dir a|b
pg_port()     { if [[ $1 == a ]]; then printf '%s\n' "$PG_A_PORT"; else printf '%s\n' "$PG_B_PORT"; fi; }
pg_log()      { printf '%s/pg-%s.log\n' "$LOG_DIR" "$1"; }

pg_initialised() { [[ -f "$(pg_data_dir "$1")/PG_VERSION" ]]; }

pg_running() {
    pg_initialised "$1" && as_postgres "$PG_BIN/pg_ctl" status -D "$(pg_data_dir "$1")" >/dev/null 2>&1
}

pg_pid() {
    local pidfile
    pidfile="$(pg_data_dir "$1")/postmaster.pid"
    [[ -f $pidfile ]] && head -n 1 "$pidfile" || true
}

# psql over the node's Unix socket inside the state dir, as postgres (peer authentication):
# the script's own administration never needs the password.
pg_psql() {
    local node=$1
    shift
    as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$(pg_port "$node")" -U postgres "$@"
}

pg_prepare_dirs() {
    install -d -m 0700 -o postgres -g postgres "$PG_DIR" "$PG_SOCKET_DIR"
    local node
    for node in a b; do
        [[ -e "$(pg_log "$node")" ]] || install -m 0600 -o postgres -g postgres /dev/null "$(pg_log "$node")"
    done
    local socket_path="$PG_SOCKET_DIR/.s.PGSQL.$PG_A_PORT"
    if ((${#socket_path} > 100)); then
        die "the state dir path is too long for a PostgreSQL Unix socket ($socket_path); set DEMO_STATE to a shorter path"
    fi
}

# Settings shared by both nodes; the standby gets them with its base backup.
pg_write_primary_config() {
    local data=$1 port=$2
    cat >>"$data/postgresql.conf" <<EOF

# --- gateway demo (deploy/demo.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_log_hints = on
wal_keep_size = '256MB'
# A standby whose primary died retries every wal_retrieve_retry_interval (5 s by default); a promotion
# arriving during that sleep can wait for it, far beyond the gateway's 2 s failover budget.
wal_retrieve_retry_interval = '200ms'
password_encryption = 'scram-sha-256'
EOF
    cat >"$data/pg_hba.conf" <<'EOF'
# gateway demo (deploy/demo.sh): the script administers over the Unix socket as postgres;
# everything else comes over TCP from 127.0.0.1 with a password.
# TYPE  DATABASE     USER      ADDRESS        METHOD
local   all          postgres                 peer
host    all          all       127.0.0.1/32   scram-sha-256
host    replication  all       127.0.0.1/32   scram-sha-256
EOF
}

pg_start() {
    local node=$1
    # The port on the command line, not only in postgresql.conf: rebuilding a node as a standby (pg_rewind, base
    # backup) copies the other node's postgresql.conf, port included.
    as_postgres "$PG_BIN/pg_ctl" -D "$(pg_data_dir "$node")" -o "-p $(pg_port "$node")" -l "$(pg_log "$node")" -w -t 60 start >/dev/null ||
        { tail -n 20 "$(pg_log "$node")" >&2; die "PostgreSQL $node did not start; read $(pg_log "$node")"; }
}

pg_stop() {
    local node=$1
    if pg_running "$node"; then
        as_postgres "$PG_BIN/pg_ctl" -D "$(pg_data_dir "$node")" -m fast -w -t 60 stop >/dev/null
        say "  stopped pg-$node"
    fi
}

# Sets the postgres user's password from the secrets file, over the local socket, through stdin:
# the password never appears in a command line.
pg_set_password() {
    local password
    password=$(<"$SECRETS_DIR/pg-password")
    printf "ALTER ROLE postgres PASSWORD '%s';\n" "$password" | pg_psql a -d postgres -f - >/dev/null
}

pg_init_primary() {
    local data fresh=no
    data=$(pg_data_dir a)
    if pg_initialised a; then
        say "  PostgreSQL A already initialised in $data (reused)"
    else
        fresh=yes
        as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb-a.log" 2>&1 ||
            { tail -n 20 "$LOG_DIR/initdb-a.log" >&2; die "initdb failed; read $LOG_DIR/initdb-a.log"; }
        pg_write_primary_config "$data" "$PG_A_PORT"
    fi
    if pg_running a; then
        say "  PostgreSQL A already running (pid $(pg_pid a))"
    else
        port_free "$PG_A_PORT" || die "port $PG_A_PORT (PostgreSQL A) is already in use by another program"
        pg_start a
    fi
    # Only on a new cluster: a reused one has its password already, and after a switchover A may be a read-only
    # standby (the gateway's persisted state decides who is primary), where ALTER ROLE would fail.
    if [[ $fresh == yes ]]; then
        pg_set_password
    fi
}

pg_init_standby() {
    local data
    data=$(pg_data_dir b)
    if pg_initialised b; then
        say "  PostgreSQL B already initialised in $data (reused)"
    else
        # The base backup connects like any client: over TCP with the password, given through the
        # environment. -R writes the standby's primary_conninfo (with that password) into
        # postgresql.auto.conf, which only postgres can read.
        rm -rf "$data"
        PGPASSWORD=$(<"$SECRETS_DIR/pg-password") as_postgres "$PG_BIN/pg_basebackup" \
            -h 127.0.0.1 -p "$PG_A_PORT" -U postgres -D "$data" -R -X stream -c fast \
            >"$LOG_DIR/basebackup-b.log" 2>&1 ||
            { tail -n 20 "$LOG_DIR/basebackup-b.log" >&2; die "pg_basebackup of B from A failed; read $LOG_DIR/basebackup-b.log"; }
        printf '\n# --- gateway demo: the standby listens on its own port ---\nport = %s\n' "$PG_B_PORT" \
            >>"$data/postgresql.auto.conf"
    fi
    if pg_running b; then
        say "  PostgreSQL B already running (pid $(pg_pid b))"
    else
        port_free "$PG_B_PORT" || die "port $PG_B_PORT (PostgreSQL B) is already in use by another program"
        pg_start b
    fi
}

pg_ensure_database() {
    local exists
    exists=$(pg_psql a -d postgres -tAc "select 1 from pg_database where datname = 'broker'")
    if [[ $exists == 1 ]]; then
        say "  database broker already exists"
    else
        pg_psql a -d postgres -c "create database broker" >/dev/null
        say "  created database broker"
    fi
}

# primary / standby, asked of the node itself.
pg_role() {
    local in_recovery
    in_recovery=$(pg_psql "$1" -d postgres -tAc "select pg_is_in_recovery()" 2>/dev/null || true)
    case $in_recovery in
        f) printf 'primary\n' ;;
        t) printf 'standby\n' ;;
        *) printf '?\n' ;;
    esac
}
