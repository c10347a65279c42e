# shellcheck shell=bash
# PostgreSQL steps of the demo: a primary (A) and a streaming standby of it (B), both on 127.0.0.1.
# Expects demo.sh's settings (STATE, PG_BIN, PG_DIR, PG_SOCKET_DIR, PG_LOG_DIR, LOG_DIR, SECRETS_DIR, ports).
#
# Everything the postgres user opens (data directories, the socket directory, the server logs) is under PG_DIR,
# which that user can reach wherever the state dir is: a root user's clone under /root (mode 700) is not.

# Runs a PostgreSQL tool as the postgres user (the server refuses to run as root), from a directory
# that user can enter. Extra environment for the tool can be passed with `env` before the command.
as_postgres() {
    (cd / && runuser -u postgres -- "$@")
}

pg_data_dir() { printf '%s/%s\n' "$PG_DIR" "$1"; }          # pg_data_dir a|b
pg_port()     { if [[ $1 == a ]]; then printf '%s\n' "$PG_A_PORT"; else printf '%s\n' "$PG_B_PORT"; fi; }
pg_log()      { printf '%s/pg-%s.log\n' "$PG_LOG_DIR" "$1"; }
pg_site()     { printf '%s\n' "${1^^}"; }                    # pg_site a -> A
pg_node()     { printf '%s\n' "${1,,}"; }                    # pg_node A -> a

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

# Where PostgreSQL's files go, chosen on the first 'up' and remembered as the link $STATE/pg:
# DEMO_PG_DIR if set, else /var/lib/gateway-demo/<hash of the state dir's path>. A state dir from before this
# layout keeps its real directory $STATE/pg.
pg_resolve_dir() {
    if [[ -L $STATE/pg ]]; then
        realpath -m "$STATE/pg"
    elif [[ -d $STATE/pg ]]; then
        printf '%s\n' "$STATE/pg"
    elif [[ -n ${DEMO_PG_DIR:-} ]]; then
        realpath -m "$DEMO_PG_DIR"
    else
        printf '/var/lib/gateway-demo/%s\n' "$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
    fi
}

pg_marker() { printf '%s/.gateway-demo-pg\n' "$PG_DIR"; }

# The PG dir belongs to this state dir: its marker names it (so 'purge' never deletes another demo's data).
pg_dir_is_ours() {
    [[ $PG_DIR == "$STATE/pg" ]] || [[ -f "$(pg_marker)" && "$(<"$(pg_marker)")" == "$STATE" ]]
}

pg_prepare_dirs() {
    if [[ -n ${DEMO_PG_DIR:-} && "$(realpath -m "$DEMO_PG_DIR")" != "$PG_DIR" ]]; then
        warn "DEMO_PG_DIR=$DEMO_PG_DIR ignored: this state dir's PostgreSQL files are in $PG_DIR ($STATE/pg); 'purge' to start over elsewhere"
    fi
    if [[ $PG_DIR != "$STATE/pg" ]]; then
        [[ -d $PG_DIR ]] || install -d -m 0755 "$(dirname "$PG_DIR")"
        if [[ -n "$(ls -A "$PG_DIR" 2>/dev/null)" ]] && ! pg_dir_is_ours; then
            die "$PG_DIR exists and belongs to another demo state dir (see $(pg_marker)); set DEMO_PG_DIR elsewhere"
        fi
    fi
    install -d -m 0700 -o postgres -g postgres "$PG_DIR" "$PG_SOCKET_DIR" "$PG_LOG_DIR"
    if [[ $PG_DIR != "$STATE/pg" ]]; then
        printf '%s\n' "$STATE" >"$(pg_marker)"
        [[ -L $STATE/pg ]] || ln -s "$PG_DIR" "$STATE/pg"
    fi
    if ! as_postgres test -w "$PG_DIR" -a -x "$PG_DIR"; then
        die "the postgres user cannot reach $PG_DIR (a parent directory is not traversable by others).
       Put PostgreSQL's files elsewhere on the first 'up': DEMO_PG_DIR=/var/tmp/gateway-demo-pg deploy/demo.sh up"
    fi
    local node log
    for node in a b; do
        log=$(pg_log "$node")
        [[ -e $log ]] || install -m 0600 -o postgres -g postgres /dev/null "$log"
        # The logs stay where the others are: $LOG_DIR/pg-a.log is a link to the file the server writes.
        if [[ $PG_LOG_DIR != "$LOG_DIR" && ! -e $LOG_DIR/pg-$node.log && ! -L $LOG_DIR/pg-$node.log ]]; then
            ln -s "$log" "$LOG_DIR/pg-$node.log"
        fi
    done
    local socket_path="$PG_SOCKET_DIR/.s.PGSQL.$PG_A_PORT"
    if ((${#socket_path} > 100)); then
        die "the path of PostgreSQL's socket is too long ($socket_path); set DEMO_PG_DIR to a shorter path"
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
# Backups (gatewayctl backup create): pgBackRest needs WAL archiving, which only a restart turns on. The gateway
# points archive_command at its repository at each backup; until the first, WAL is let go as without archiving.
archive_mode = on
archive_command = '/bin/true'
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

# Creates A's cluster on the very first 'up' (initdb and settings; PG_A_FRESH=yes: the password is set once it
# runs). Never once the gateway has named B the primary: a new cluster would be a second, unrelated primary; the
# gateway rebuilds A from B instead.
pg_init_primary() {
    local data
    data=$(pg_data_dir a)
    if pg_initialised a; then
        say "  PostgreSQL A initialised in $data (reused)"
        return
    fi
    if [[ -n "$(other_primary a)" ]]; then
        hold_back a "A has no data directory while $(claim_text "$(other_primary a)")" \
            "gatewayctl db rejoin --site A --method basebackup"
        return
    fi
    as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb-a.log" 2>&1 ||
        { tail -n 20 "$LOG_DIR/initdb-a.log" >&2; die "initdb failed; read $LOG_DIR/initdb-a.log"; }
    pg_write_primary_config "$data" "$PG_A_PORT"
    say "  initialised PostgreSQL A in $data"
    PG_A_FRESH=yes
}

# Creates B on the very first 'up': a base backup of A, which is then the primary.
pg_init_standby() {
    local data
    data=$(pg_data_dir b)
    if pg_initialised b; then
        say "  PostgreSQL B initialised in $data (reused)"
        return
    fi
    if [[ -n "$(other_primary a)" ]]; then
        die "B has no data directory ($data), yet $(claim_text "$(other_primary a)"); there is nothing to start B from ('deploy/demo.sh purge' starts over)"
    fi
    pg_running a || die "B has no data directory and A, its source, does not run"
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
    say "  initialised PostgreSQL B in $data (base backup of A)"
}

# Starts a node unless that could make it a second primary: the gateway names the other site the primary and
# this node's data directory is a primary's (no standby.signal). Such a node is not started at all, rather than
# as a standby: it may hold WAL past the point where the other took over, which only pg_rewind (or a base backup)
# undoes, and that is what the gateway's rejoin does before it starts the node and routes to it again.
pg_start_unless_second_primary() {
    local node=$1 site claim
    site=$(pg_site "$node")
    pg_initialised "$node" || return 0
    claim=$(other_primary "$node")
    if pg_running "$node"; then
        local role
        role=$(pg_role "$node")
        say "  PostgreSQL $site already running (pid $(pg_pid "$node"), $role)"
        if [[ -n $claim && $role == primary ]]; then
            warn "PostgreSQL $site runs as a primary, but $(claim_text "$claim"): the gateway sends it no traffic.
       Rebuild it as a standby of ${claim%%|*}: gatewayctl db rejoin --site $site"
        fi
        return
    fi
    if [[ -n $claim && ! -f "$(pg_data_dir "$node")/standby.signal" ]]; then
        hold_back "$node" "$(claim_text "$claim"), and $site's data directory is a primary's (no standby.signal): started, it would be a second primary" \
            "gatewayctl db rejoin --site $site"
        return
    fi
    pg_start_node "$node"
}

pg_start_node() {
    local node=$1 site
    site=$(pg_site "$node")
    port_free "$(pg_port "$node")" || die "port $(pg_port "$node") (PostgreSQL $site) is already in use by another program"
    pg_start "$node"
    say "  started PostgreSQL $site (pid $(pg_pid "$node"), $(pg_role "$node"))"
}

# On the node that is the primary (a standby replays the database from it).
pg_ensure_database() {
    local node=$1 exists
    if ! pg_running "$node" || [[ "$(pg_role "$node")" != primary ]]; then
        say "  skipped: PostgreSQL $(pg_site "$node"), the primary, does not run"
        return
    fi
    exists=$(pg_psql "$node" -d postgres -tAc "select 1 from pg_database where datname = 'broker'")
    if [[ $exists == 1 ]]; then
        say "  database broker already exists (on $(pg_site "$node"))"
    else
        pg_psql "$node" -d postgres -c "create database broker" >/dev/null
        say "  created database broker (on $(pg_site "$node"))"
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
