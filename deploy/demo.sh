#!/usr/bin/env bash
# The whole two-site system on this machine, on 127.0.0.1 only:
#   PostgreSQL A (primary) and B (streaming standby of A), SAN directories and the filestore link,
#   the gateway (public HTTP, admin API, PostgreSQL write/read endpoints), four broker instances.
#
#   deploy/demo.sh up               build, start what is not running, wait until all is healthy
#   deploy/demo.sh status           what runs where, and the gateway's own view
#   deploy/demo.sh down [--purge]   stop everything it started (--purge: then delete the state dir)
#   deploy/demo.sh purge            same as down --purge
#
# State (data, logs, PID files, secrets, binaries) lives in .demo/ at the repository root, or in
# $DEMO_STATE. Ports: see load_settings below.
set -euo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/common.sh
source "$DEPLOY_DIR/lib/common.sh"
# shellcheck source=lib/process.sh
source "$DEPLOY_DIR/lib/process.sh"
# shellcheck source=lib/postgres.sh
source "$DEPLOY_DIR/lib/postgres.sh"

REPO_ROOT=$(cd "$DEPLOY_DIR/.." && pwd -P)
INSTANCES=(a1 a2 b1 b2)
TOTAL_STEPS=10

usage() {
    cat <<EOF
usage: deploy/demo.sh COMMAND

  up               build and start the two-site demo (PostgreSQL A+B, gateway, 4 broker instances);
                   safe to run again: starts only what is not running
  status           show each component (pid, running/stopped, address) and the gateway's status
  down [--purge]   stop everything the demo started; --purge also deletes the state dir
  purge            same as down --purge

environment:
  DEMO_STATE        state dir (default: <repo>/.demo)
  DEMO_PG_A_PORT    PostgreSQL A (default 55432)     DEMO_PG_B_PORT      PostgreSQL B (default 55433)
  DEMO_HTTP_PORT    gateway public HTTP (8080)       DEMO_ADMIN_PORT     gateway admin API (8081)
  DEMO_PG_WRITE_PORT gateway PG write endpoint (6432) DEMO_PG_READ_PORT  gateway PG read endpoint (6433)
  DEMO_A1_PORT DEMO_A2_PORT DEMO_B1_PORT DEMO_B2_PORT broker instances (5101 5102 5201 5202)
  DEMO_WAIT_SECONDS how long 'up' waits for all instances to be healthy (default 60)
  DEMO_SKIP_BUILD=1 reuse the binaries already in the state dir
EOF
}

load_settings() {
    STATE=$(realpath -m "${DEMO_STATE:-$REPO_ROOT/.demo}")
    RUN_DIR=$STATE/run
    LOG_DIR=$STATE/logs
    SECRETS_DIR=$STATE/secrets
    BIN_DIR=$STATE/bin
    PG_DIR=$STATE/pg
    # shellcheck disable=SC2034 # used by lib/postgres.sh
    PG_SOCKET_DIR=$PG_DIR/sock
    GATEWAY_CONFIG=$STATE/gateway.json
    PGPASS_FILE=$STATE/pgpass
    TOKEN_FILE=$SECRETS_DIR/admin-token
    SAN_A=$STATE/san-a
    SAN_B=$STATE/san-b
    FILESTORE_LINK=$STATE/filestore

    PG_A_PORT=${DEMO_PG_A_PORT:-55432}
    PG_B_PORT=${DEMO_PG_B_PORT:-55433}
    HTTP_PORT=${DEMO_HTTP_PORT:-8080}
    ADMIN_PORT=${DEMO_ADMIN_PORT:-8081}
    PG_WRITE_PORT=${DEMO_PG_WRITE_PORT:-6432}
    PG_READ_PORT=${DEMO_PG_READ_PORT:-6433}
    declare -gA INSTANCE_PORT=(
        [a1]=${DEMO_A1_PORT:-5101} [a2]=${DEMO_A2_PORT:-5102}
        [b1]=${DEMO_B1_PORT:-5201} [b2]=${DEMO_B2_PORT:-5202}
    )
    WAIT_SECONDS=${DEMO_WAIT_SECONDS:-60}

    local port
    for port in "$PG_A_PORT" "$PG_B_PORT" "$HTTP_PORT" "$ADMIN_PORT" "$PG_WRITE_PORT" "$PG_READ_PORT" "${INSTANCE_PORT[@]}"; do
        [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "not a port number: '$port'"
    done
}

step() {
    CURRENT_STEP=$1
    shift
    say "[$CURRENT_STEP/$TOTAL_STEPS] $*"
}

# What identifies each dotnet component in the process table.
gateway_signature() { printf '%s\n' "$BIN_DIR/gateway/Gateway.dll"; }
instance_signature() { printf '%s\n' "$BIN_DIR/broker/Broker.dll" "--Broker:InstanceId=$1"; }
gateway_running() { component_running gateway "$(gateway_signature)"; }
instance_running() { local sig; mapfile -t sig < <(instance_signature "$1"); component_running "$1" "${sig[@]}"; }
instance_site() { [[ $1 == a* ]] && printf 'A\n' || printf 'B\n'; }

require_root() {
    [[ $EUID -eq 0 ]] || die "run this as root: PostgreSQL is run as the postgres user via runuser"
}

# ---------------------------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------------------------

install_prerequisites() {
    step 1 "checking prerequisites (deploy/prereqs.sh) ..."
    "$DEPLOY_DIR/prereqs.sh" | sed 's/^/  /'
    PG_BIN=$(find_pg_bin) || die "no PostgreSQL server binaries found"
    id postgres >/dev/null 2>&1 || die "there is no 'postgres' user (it comes with Debian's postgresql package)"
}

prepare_state_dir() {
    install -d -m 0755 "$STATE" "$RUN_DIR" "$LOG_DIR" "$BIN_DIR"
    install -d -m 0700 "$SECRETS_DIR"
    touch "$STATE/.gateway-demo-state"   # lets 'purge' know this dir is ours to delete
    if ! as_postgres test -x "$STATE"; then
        die "the postgres user cannot reach $STATE (a parent directory is not traversable by others).
       Use a state dir elsewhere, e.g. DEMO_STATE=/var/tmp/gateway-demo deploy/demo.sh up,
       or allow traversal with: chmod o+x <each parent directory>"
    fi
    pg_prepare_dirs
}

generate_secret_once() {
    local file=$1 bytes=$2
    if [[ ! -s $file ]]; then
        (umask 077 && random_hex "$bytes" >"$file.tmp" && mv "$file.tmp" "$file")
    fi
    chmod 600 "$file"
}

generate_secrets() {
    generate_secret_once "$SECRETS_DIR/pg-password" 16
    generate_secret_once "$TOKEN_FILE" 32
}

write_pgpass() {
    local password content
    password=$(<"$SECRETS_DIR/pg-password")
    content=$(
        for port in "$PG_WRITE_PORT" "$PG_READ_PORT" "$PG_A_PORT" "$PG_B_PORT"; do
            printf '127.0.0.1:%s:*:postgres:%s\n' "$port" "$password"
        done
        printf '127.0.0.1:*:replication:postgres:%s\n' "$password"
    )
    if [[ ! -f $PGPASS_FILE || "$(<"$PGPASS_FILE")" != "$content" ]]; then
        (umask 077 && printf '%s\n' "$content" >"$PGPASS_FILE.tmp" && mv "$PGPASS_FILE.tmp" "$PGPASS_FILE")
    fi
    chmod 600 "$PGPASS_FILE"
}

# dotnet publish overwrites the DLLs in place: never under a process that runs them.
publish_project() {
    local number=$1 project=$2 name=$3 outdir=$4 in_use=$5
    if [[ ${DEMO_SKIP_BUILD:-} == 1 && -f $outdir/$name.dll ]]; then
        step "$number" "building $project: skipped (DEMO_SKIP_BUILD=1, reusing $outdir)"
        return
    fi
    if [[ $in_use == yes && -f $outdir/$name.dll ]]; then
        step "$number" "building $project: skipped (running from $outdir; 'down' first to rebuild)"
        return
    fi
    step "$number" "building $project -> $outdir ..."
    local log=$LOG_DIR/build-$name.log
    if ! (cd "$REPO_ROOT" && DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
        dotnet publish "$project" -c Release -o "$outdir" --nologo --disable-build-servers) >"$log" 2>&1; then
        grep -E 'error|Error' "$log" | sort -u | tail -n 20 >&2 || tail -n 20 "$log" >&2
        die "building $project failed; read $log"
    fi
}

build_gateway() {
    local in_use=no
    gateway_running && in_use=yes
    publish_project 2 src/Gateway Gateway "$BIN_DIR/gateway" "$in_use"
}

build_broker() {
    local in_use=no id
    for id in "${INSTANCES[@]}"; do
        instance_running "$id" && in_use=yes
    done
    publish_project 3 src/Broker Broker "$BIN_DIR/broker" "$in_use"
}

start_postgresql_a() {
    step 4 "starting PostgreSQL A (primary) on 127.0.0.1:$PG_A_PORT ..."
    pg_init_primary
}

start_postgresql_b() {
    step 5 "starting PostgreSQL B (standby of A) on 127.0.0.1:$PG_B_PORT ..."
    pg_init_standby
}

create_database() {
    step 6 "creating database broker on the primary ..."
    pg_ensure_database
}

prepare_filestore() {
    step 7 "preparing SAN directories and the filestore link ..."
    install -d -m 0755 "$SAN_A" "$SAN_B"
    if [[ -L $FILESTORE_LINK ]]; then
        say "  $FILESTORE_LINK -> $(readlink "$FILESTORE_LINK") (kept)"
    elif [[ -e $FILESTORE_LINK ]]; then
        die "$FILESTORE_LINK exists but is not a symlink; move it away"
    else
        ln -s "$SAN_A" "$FILESTORE_LINK"
        say "  $FILESTORE_LINK -> $SAN_A"
    fi
}

gateway_config_json() {
    jq -n \
        --arg sanA "$SAN_A" --arg sanB "$SAN_B" --arg link "$FILESTORE_LINK" --arg token "$TOKEN_FILE" \
        --argjson pgA "$PG_A_PORT" --argjson pgB "$PG_B_PORT" \
        --arg a1 "http://127.0.0.1:${INSTANCE_PORT[a1]}" --arg a2 "http://127.0.0.1:${INSTANCE_PORT[a2]}" \
        --arg b1 "http://127.0.0.1:${INSTANCE_PORT[b1]}" --arg b2 "http://127.0.0.1:${INSTANCE_PORT[b2]}" \
        --arg public "http://127.0.0.1:$HTTP_PORT" --arg admin "http://127.0.0.1:$ADMIN_PORT" \
        --arg pgWrite "127.0.0.1:$PG_WRITE_PORT" --arg pgRead "127.0.0.1:$PG_READ_PORT" \
        --arg state "$STATE/state" --arg pgPassword "$SECRETS_DIR/pg-password" --arg pgBin "$PG_BIN" \
        --arg dataA "$(pg_data_dir a)" --arg dataB "$(pg_data_dir b)" \
        --arg startA "runuser -u postgres -- {pgBin}/pg_ctl -D {dataDir} -o '-p {port}' -l $(pg_log a) -w -t 60 start" \
        --arg startB "runuser -u postgres -- {pgBin}/pg_ctl -D {dataDir} -o '-p {port}' -l $(pg_log b) -w -t 60 start" '
    {
      Gateway: {
        ActiveSite: "A",
        Sites: [
          { Id: "A", SanPath: $sanA,
            Database: { Host: "127.0.0.1", Port: $pgA, DataDirectory: $dataA, Commands: { Start: $startA } },
            Instances: [ { Id: "a1", Url: $a1 }, { Id: "a2", Url: $a2 } ] },
          { Id: "B", SanPath: $sanB,
            Database: { Host: "127.0.0.1", Port: $pgB, DataDirectory: $dataB, Commands: { Start: $startB } },
            Instances: [ { Id: "b1", Url: $b1 }, { Id: "b2", Url: $b2 } ] }
        ],
        Filestore: { Links: [ $link ] },
        Routing: { WritePolicy: "Prefer",
                   HealthCheck: { Interval: "00:00:00.500", Timeout: "00:00:01", Path: "/healthz" } },
        Listeners: { PublicUrl: $public, AdminUrl: $admin, PgWriteEndpoint: $pgWrite, PgReadEndpoint: $pgRead },
        Admin: { TokenFile: $token },
        Database: { PasswordFile: $pgPassword, BinDirectory: $pgBin },
        StateDirectory: $state
      }
    }'
}

# Written once; an existing config is the operator's (or a later failover's) and is kept.
write_gateway_config() {
    local fresh
    fresh=$(gateway_config_json)
    if [[ -f $GATEWAY_CONFIG ]]; then
        if [[ "$(jq -S . "$GATEWAY_CONFIG" 2>/dev/null || true)" != "$(jq -S . <<<"$fresh")" ]]; then
            warn "keeping the existing $GATEWAY_CONFIG, which differs from what the current settings give; delete it to regenerate"
        fi
    else
        printf '%s\n' "$fresh" >"$GATEWAY_CONFIG.tmp"
        mv "$GATEWAY_CONFIG.tmp" "$GATEWAY_CONFIG"
    fi
}

admin_healthz_ok() {
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$ADMIN_PORT/healthz" 2>/dev/null
}

# The gateway's /status, with the admin token sent from a file descriptor (not the command line).
admin_status_json() {
    local token
    token=$(<"$TOKEN_FILE")
    curl -fsS --max-time 3 -H @<(printf 'Authorization: Bearer %s\n' "$token") \
        "http://127.0.0.1:$ADMIN_PORT/admin/status" 2>/dev/null
}

show_log_tail() {
    local name=$1 log
    log=$(log_file "$name")
    printf -- '--- last lines of %s ---\n' "$log" >&2
    tail -n 25 "$log" >&2 || true
    printf -- '---\n' >&2
}

start_gateway() {
    step 8 "starting the gateway (public :$HTTP_PORT, admin :$ADMIN_PORT, PG write :$PG_WRITE_PORT, PG read :$PG_READ_PORT) ..."
    write_gateway_config
    local started=no
    if gateway_running; then
        say "  gateway already running (pid $(recorded_pid gateway))"
    else
        local port
        for port in "$HTTP_PORT" "$ADMIN_PORT" "$PG_WRITE_PORT" "$PG_READ_PORT"; do
            port_free "$port" || die "port $port (gateway) is already in use by another program"
        done
        launch gateway dotnet "$(gateway_signature)" --config "$GATEWAY_CONFIG"
        started=yes
    fi
    local deadline=$((SECONDS + 30))
    until admin_healthz_ok; do
        if ! gateway_running; then
            show_log_tail gateway
            die "the gateway exited during start-up (see the log above: $(log_file gateway))"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail gateway
            die "the gateway's admin endpoint http://127.0.0.1:$ADMIN_PORT/healthz did not answer within 30 s; read $(log_file gateway)"
        fi
        sleep 0.5
    done
    [[ $started == no ]] || say "  gateway up (pid $(recorded_pid gateway))"
}

start_instance() {
    local id=$1 port=${INSTANCE_PORT[$1]} connection_string
    if instance_running "$id"; then
        say "  $id already running (pid $(recorded_pid "$id"))"
        return
    fi
    port_free "$port" || die "port $port (instance $id) is already in use by another program"
    # The services reach PostgreSQL only through the gateway's write endpoint. The connection string
    # (with the password) goes through the environment, so 'ps' does not show it.
    connection_string="Host=127.0.0.1;Port=$PG_WRITE_PORT;Username=postgres;Password=$(<"$SECRETS_DIR/pg-password");Database=broker"
    Broker__ConnectionString=$connection_string \
        launch "$id" dotnet "$BIN_DIR/broker/Broker.dll" --urls "http://127.0.0.1:$port" \
        "--Broker:InstanceId=$id" "--Broker:FilestorePath=$FILESTORE_LINK"
    say "  $id started on 127.0.0.1:$port (pid $(recorded_pid "$id"))"
}

start_instances() {
    step 9 "starting broker instances a1, a2 (site A) and b1, b2 (site B) ..."
    local id
    for id in "${INSTANCES[@]}"; do
        start_instance "$id"
    done
}

# Instances the gateway does not (yet) report Healthy, one id per line.
instances_not_healthy() {
    local json=$1 id health
    for id in "${INSTANCES[@]}"; do
        health=$(jq -r --arg id "$id" '[.instances[]? | select(.id == $id) | .health][0] // "missing"' <<<"$json" 2>/dev/null || echo "unreadable")
        [[ $health == Healthy ]] || printf '%s (%s)\n' "$id" "$health"
    done
}

wait_until_healthy() {
    step 10 "waiting (up to ${WAIT_SECONDS} s) until the gateway reports all 4 instances Healthy ..."
    local deadline=$((SECONDS + WAIT_SECONDS)) json pending id
    while true; do
        gateway_running || { show_log_tail gateway; die "the gateway exited; read $(log_file gateway)"; }
        for id in "${INSTANCES[@]}"; do
            if ! instance_running "$id"; then
                show_log_tail "$id"
                die "instance $id exited; read $(log_file "$id")"
            fi
        done
        json=$(admin_status_json || true)
        if [[ -n $json ]]; then
            pending=$(instances_not_healthy "$json")
            [[ -z $pending ]] && break
        else
            pending="(no answer from http://127.0.0.1:$ADMIN_PORT/admin/status)"
        fi
        if ((SECONDS >= deadline)); then
            local first
            first=$(head -n 1 <<<"$pending" | cut -d' ' -f1)
            printf 'not healthy after %s s:\n%s\n' "$WAIT_SECONDS" "$(sed 's/^/  /' <<<"$pending")" >&2
            if [[ -n ${INSTANCE_PORT[$first]:-} ]]; then
                show_log_tail "$first"
                die "instances not healthy; read $(log_file "$first") and $(log_file gateway)"
            fi
            die "the gateway did not report status; read $(log_file gateway)"
        fi
        sleep 1
    done
    say "  all 4 instances Healthy"
}

print_summary() {
    cat <<EOF

The two-site demo is up (state in $STATE).

  public HTTP          http://127.0.0.1:$HTTP_PORT
  admin API            http://127.0.0.1:$ADMIN_PORT   (token in $TOKEN_FILE)
  PG write endpoint    127.0.0.1:$PG_WRITE_PORT   (forwards to the active site's PostgreSQL)
  PG read endpoint     127.0.0.1:$PG_READ_PORT   (forwards to the other site's PostgreSQL)
  logs                 $LOG_DIR/

Try:
  curl -s -X POST --data-binary @/etc/hostname 'http://127.0.0.1:$HTTP_PORT/deposits?name=hostname'
  curl -s -H "Authorization: Bearer \$(cat $TOKEN_FILE)" http://127.0.0.1:$ADMIN_PORT/admin/status
  PGPASSFILE=$PGPASS_FILE psql -h 127.0.0.1 -p $PG_WRITE_PORT -U postgres broker

Stop with: deploy/demo.sh down
EOF
}

cmd_up() {
    require_root
    install_prerequisites
    prepare_state_dir
    generate_secrets
    write_pgpass
    build_gateway
    build_broker
    start_postgresql_a
    start_postgresql_b
    create_database
    prepare_filestore
    start_gateway
    start_instances
    wait_until_healthy
    print_summary
}

# ---------------------------------------------------------------------------------------------
# down / purge
# ---------------------------------------------------------------------------------------------

cmd_down() {
    local purge=no
    case ${1:-} in
        "") ;;
        --purge) purge=yes ;;
        *) usage >&2; exit 2 ;;
    esac
    require_root
    PG_BIN=$(find_pg_bin 2>/dev/null || true)
    say "stopping the demo (state in $STATE) ..."
    local id sig
    for id in b2 b1 a2 a1; do
        mapfile -t sig < <(instance_signature "$id")
        stop_component "$id" "${sig[@]}"
    done
    stop_component gateway "$(gateway_signature)"
    if [[ -n $PG_BIN ]]; then
        pg_stop b
        pg_stop a
    fi
    if [[ $purge == yes ]]; then
        if [[ -f $STATE/.gateway-demo-state ]]; then
            rm -rf "$STATE"
            say "deleted $STATE"
        else
            die "$STATE does not look like a demo state dir (no .gateway-demo-state); not deleting it"
        fi
    else
        say "stopped; data kept in $STATE ('deploy/demo.sh purge' deletes it)"
    fi
}

# ---------------------------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------------------------

status_row() {
    printf '  %-9s %-8s %-8s %-22s %s\n' "$@"
}

cmd_status() {
    PG_BIN=$(find_pg_bin 2>/dev/null || true)
    say "state dir: $STATE"
    status_row COMPONENT PID STATE ADDRESS NOTE
    local node pid state note
    for node in a b; do
        pid=- state=stopped note=
        if [[ -n $PG_BIN && $EUID -eq 0 ]] && pg_running "$node"; then
            pid=$(pg_pid "$node") state=running note=$(pg_role "$node")
        elif [[ $EUID -ne 0 && -n "$(pg_pid "$node")" && -d "/proc/$(pg_pid "$node")" ]]; then
            pid=$(pg_pid "$node") state=running
        elif ! pg_initialised "$node"; then
            note="not initialised"
        fi
        status_row "pg-$node" "$pid" "$state" "127.0.0.1:$(pg_port "$node")" "$note"
    done
    pid=- state=stopped
    if gateway_running; then pid=$(recorded_pid gateway) state=running; fi
    status_row gateway "$pid" "$state" "127.0.0.1:$HTTP_PORT" "admin :$ADMIN_PORT, PG write :$PG_WRITE_PORT, read :$PG_READ_PORT"
    local id
    for id in "${INSTANCES[@]}"; do
        pid=- state=stopped
        if instance_running "$id"; then pid=$(recorded_pid "$id") state=running; fi
        status_row "$id" "$pid" "$state" "127.0.0.1:${INSTANCE_PORT[$id]}" "site $(instance_site "$id")"
    done
    if [[ -L $FILESTORE_LINK ]]; then
        say "  filestore -> $(readlink "$FILESTORE_LINK")"
    fi

    if gateway_running && [[ -r $TOKEN_FILE ]]; then
        local json
        json=$(admin_status_json || true)
        if [[ -z $json ]]; then
            say "gateway /status: no answer from http://127.0.0.1:$ADMIN_PORT/admin/status"
        elif ! jq -e . >/dev/null 2>&1 <<<"$json"; then
            say "gateway /status (not JSON): $json"
        else
            say "gateway /status:"
            jq -r '
              "  active site: \(.activeSite // "?")",
              (.instances[]? | "  instance \(.id) (site \(.site // "?")) \(.url // "") \(.health // "?")"),
              (.database // {} | to_entries[] | "  database \(.key): site \(.value.site // "?") \(.value.host // "?"):\(.value.port // "?")")
            ' <<<"$json"
        fi
    fi
}

main() {
    local command=${1:-}
    case $command in
        up | down | purge | status) ;;
        -h | --help | help) usage; exit 0 ;;
        "") usage >&2; exit 2 ;;
        *) printf 'error: unknown command: %s\n\n' "$command" >&2; usage >&2; exit 2 ;;
    esac
    shift
    load_settings
    case $command in
        up)
            (($# == 0)) || { usage >&2; exit 2; }
            cmd_up
            ;;
        down) cmd_down "$@" ;;
        purge)
            (($# == 0)) || { usage >&2; exit 2; }
            cmd_down --purge
            ;;
        status)
            (($# == 0)) || { usage >&2; exit 2; }
            cmd_status
            ;;
    esac
}

# Sourcing the file (for a test) defines the steps without running anything.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
