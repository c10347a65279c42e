#!/usr/bin/env bash
# The whole two-site system on this machine, on 127.0.0.1 only:
#   PostgreSQL A (primary) and B (streaming standby of A), SAN directories and the filestore link,
#   the gateway (public HTTP, admin API, PostgreSQL write/read endpoints), four broker instances.
#
#   deploy/demo.sh up               build, start what is not running, wait until all is healthy
#   DEMO_GATEWAYS=2 deploy/demo.sh up   the same with two gateways sharing their state in a 3-member etcd cluster
#   deploy/demo.sh status           what runs where, and the gateway's own view
#   deploy/demo.sh down [--purge]   stop everything it started (--purge: then delete the state dir)
#   deploy/demo.sh purge            same as down --purge
#
# State (logs, PID files, secrets, binaries, the gateway's config and state) lives in .demo/ at the repository
# root, or in $DEMO_STATE. PostgreSQL's files (data directories, sockets, server logs) live where the postgres
# user can reach them whatever the state dir's parents allow: /var/lib/gateway-demo/<hash>, linked as .demo/pg
# (or $DEMO_PG_DIR, chosen on the first 'up'). Ports: see load_settings below.
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
TOTAL_STEPS=11

usage() {
    cat <<EOF
usage: deploy/demo.sh COMMAND

  up               build and start the two-site demo (PostgreSQL A+B, gateway, 4 broker instances);
                   safe to run again: starts only what is not running
                   DEMO_GATEWAYS=2: also a 3-member etcd cluster and a second gateway, both gateways in
                   cluster mode (one leads and acts, both route); the first 'up' of a state dir decides
  status           show each component (pid, running/stopped, address), where PostgreSQL's files are,
                   and the gateway's own view (active site, instances, database nodes and endpoints)
  down [--purge]   stop everything the demo started; --purge also deletes the state dir and PostgreSQL's files
  purge            same as down --purge

environment:
  DEMO_STATE        state dir (default: <repo>/.demo)
  DEMO_PG_DIR       PostgreSQL's data directories, sockets and server logs, chosen on the first 'up'
                    (default: /var/lib/gateway-demo/<hash of the state dir's path>, linked as <state>/pg)
  DEMO_PG_A_PORT    PostgreSQL A (default 55432)     DEMO_PG_B_PORT      PostgreSQL B (default 55433)
  DEMO_HTTP_PORT    gateway public HTTP (8080)       DEMO_ADMIN_PORT     gateway admin API (8081)
  DEMO_PG_WRITE_PORT gateway PG write endpoint (6432) DEMO_PG_READ_PORT  gateway PG read endpoint (6433)
  DEMO_A1_PORT DEMO_A2_PORT DEMO_B1_PORT DEMO_B2_PORT broker instances (5101 5102 5201 5202)
  DEMO_GATEWAYS     1 (default) or 2; kept in the state dir by its first 'up' ('purge' to change it)
  DEMO_HTTP2_PORT DEMO_ADMIN2_PORT DEMO_PG_WRITE2_PORT DEMO_PG_READ2_PORT  the second gateway (8090 8091 6442 6443)
  DEMO_ETCD_PORTS   the etcd members' client ports (default "12379 12479 12579"; each member's peer port is +1)
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
    PG_DIR=$(pg_resolve_dir)
    # shellcheck disable=SC2034 # used by lib/postgres.sh
    PG_SOCKET_DIR=$PG_DIR/sock
    # A state dir from before PostgreSQL had a directory of its own keeps the server logs with the others.
    if [[ $PG_DIR == "$STATE/pg" ]]; then PG_LOG_DIR=$LOG_DIR; else PG_LOG_DIR=$PG_DIR/logs; fi
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

    # Cluster mode (DEMO_GATEWAYS=2): a second gateway and three etcd members. Gateway n's settings are GW_*[n].
    GATEWAYS_FILE=$STATE/gateways
    REQUESTED_GATEWAYS=${DEMO_GATEWAYS:-}
    [[ -z $REQUESTED_GATEWAYS || $REQUESTED_GATEWAYS == 1 || $REQUESTED_GATEWAYS == 2 ]] ||
        die "DEMO_GATEWAYS must be 1 or 2, not '$REQUESTED_GATEWAYS'"
    RECORDED_GATEWAYS=$(recorded_gateways)
    GATEWAYS=${RECORDED_GATEWAYS:-${REQUESTED_GATEWAYS:-1}}
    CLUSTER_NAME=demo
    ETCD_DIR=$STATE/etcd
    read -r -a ETCD_CLIENT_PORTS <<<"${DEMO_ETCD_PORTS:-12379 12479 12579}"
    ((${#ETCD_CLIENT_PORTS[@]} == 3)) || die "DEMO_ETCD_PORTS must name three client ports, not '${DEMO_ETCD_PORTS:-}'"
    GW_NAME=([1]=gateway [2]=gateway2)
    GW_ID=([1]=gw1 [2]=gw2)
    GW_CONFIG=([1]=$GATEWAY_CONFIG [2]=$STATE/gateway2.json)
    GW_STATE_DIR=([1]=$STATE/state [2]=$STATE/state2)
    GW_HTTP_PORT=([1]=$HTTP_PORT [2]=${DEMO_HTTP2_PORT:-8090})
    GW_ADMIN_PORT=([1]=$ADMIN_PORT [2]=${DEMO_ADMIN2_PORT:-8091})
    GW_PG_WRITE_PORT=([1]=$PG_WRITE_PORT [2]=${DEMO_PG_WRITE2_PORT:-6442})
    GW_PG_READ_PORT=([1]=$PG_READ_PORT [2]=${DEMO_PG_READ2_PORT:-6443})

    local port
    for port in "$PG_A_PORT" "$PG_B_PORT" "${GW_HTTP_PORT[@]}" "${GW_ADMIN_PORT[@]}" "${GW_PG_WRITE_PORT[@]}" \
        "${GW_PG_READ_PORT[@]}" "${INSTANCE_PORT[@]}" "${ETCD_CLIENT_PORTS[@]}"; do
        [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65535)) || die "not a port number: '$port'"
    done
}

# How many gateways this state dir was set up with by its first 'up' (a state dir from before the setting: 1), or
# nothing for a new one. The routing state lives in state.json with one gateway and in etcd with two; neither is
# carried over to the other, so the number is not changed on a later 'up'.
recorded_gateways() {
    if [[ -s $GATEWAYS_FILE ]]; then
        tr -dc '0-9' <"$GATEWAYS_FILE"
    elif [[ -f $GATEWAY_CONFIG ]]; then
        printf '1\n'
    fi
}

clustered() { ((GATEWAYS == 2)); }
gateway_numbers() { seq 1 "$GATEWAYS"; }

check_gateway_count() {
    if [[ -n $RECORDED_GATEWAYS && -n $REQUESTED_GATEWAYS && $RECORDED_GATEWAYS != "$REQUESTED_GATEWAYS" ]]; then
        die "DEMO_GATEWAYS=$REQUESTED_GATEWAYS, but $STATE was set up with $RECORDED_GATEWAYS gateway(s): their routing state (epoch, active site, primary) lives in $( ((RECORDED_GATEWAYS == 2)) && echo "etcd" || echo "the gateway's state.json") and is not carried over.
       'deploy/demo.sh purge' first (it deletes the demo's data), then 'up' with the number you want"
    fi
    if [[ -z $RECORDED_GATEWAYS ]]; then
        printf '%s\n' "$GATEWAYS" >"$GATEWAYS_FILE"
        ((GATEWAYS == 1)) || say "  $GATEWAYS gateways in cluster mode (etcd cluster '$CLUSTER_NAME'); this state dir keeps that number"
    else
        ((GATEWAYS == 1)) || say "  $GATEWAYS gateways in cluster mode (etcd cluster '$CLUSTER_NAME'), as this state dir was set up"
    fi
}

step() {
    CURRENT_STEP=$1
    shift
    say "[$CURRENT_STEP/$TOTAL_STEPS] $*"
}

# What identifies each dotnet component in the process table.
# gateway_signature [N]: gateway N (default 1), told apart by its config file.
gateway_signature() { printf '%s\n' "$BIN_DIR/gateway/Gateway.dll" "${GW_CONFIG[${1:-1}]}"; }
instance_signature() { printf '%s\n' "$BIN_DIR/broker/Broker.dll" "--Broker:InstanceId=$1"; }
gateway_running() {
    local sig
    mapfile -t sig < <(gateway_signature "${1:-1}")
    component_running "${GW_NAME[${1:-1}]}" "${sig[@]}"
}
any_gateway_running() { local n; for n in 1 2; do gateway_running "$n" && return 0; done; return 1; }
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
    local extra=()
    clustered && extra=(etcd-server etcd-client)
    "$DEPLOY_DIR/prereqs.sh" "${extra[@]}" | sed 's/^/  /'
    PG_BIN=$(find_pg_bin) || die "no PostgreSQL server binaries found"
    id postgres >/dev/null 2>&1 || die "there is no 'postgres' user (it comes with Debian's postgresql package)"
}

prepare_state_dir() {
    install -d -m 0755 "$STATE" "$RUN_DIR" "$LOG_DIR" "$BIN_DIR"
    install -d -m 0700 "$SECRETS_DIR"
    touch "$STATE/.gateway-demo-state"   # lets 'purge' know this dir is ours to delete
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
    # The key of the backups' file repository (restic): without it the file backups cannot be read.
    generate_secret_once "$SECRETS_DIR/restic-key" 32
}

write_pgpass() {
    local password content
    password=$(<"$SECRETS_DIR/pg-password")
    content=$(
        for port in $(for n in $(gateway_numbers); do echo "${GW_PG_WRITE_PORT[$n]}" "${GW_PG_READ_PORT[$n]}"; done) "$PG_A_PORT" "$PG_B_PORT"; do
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
    any_gateway_running && in_use=yes
    publish_project 2 src/Gateway Gateway "$BIN_DIR/gateway" "$in_use"
}

build_broker() {
    local in_use=no id
    for id in "${INSTANCES[@]}"; do
        instance_running "$id" && in_use=yes
    done
    publish_project 3 src/Broker Broker "$BIN_DIR/broker" "$in_use"
}

gatewayctl_wrapper() { printf '%s/gatewayctl\n' "$BIN_DIR"; }

build_gatewayctl() {
    publish_project 4 src/Gateway.Cli gatewayctl "$BIN_DIR/cli" no
}

# gatewayctl on the PATH for this demo: $BIN_DIR/gatewayctl runs the published CLI with this demo's admin URL (as
# the gateway's config says it, which a later DEMO_ADMIN_PORT does not change) and token file; an operator's own
# GATEWAY_ADMIN_* variables still win. 'purge' deletes it with the state dir.
write_gatewayctl_wrapper() {
    local wrapper url
    wrapper=$(gatewayctl_wrapper)
    url=$(jq -r '.Gateway.Listeners.AdminUrl // empty' "$GATEWAY_CONFIG" 2>/dev/null || true)
    cat >"$wrapper.tmp" <<EOF
#!/bin/sh
# Written by deploy/demo.sh up: gatewayctl against the demo whose state is in $STATE.
: "\${GATEWAY_ADMIN_URL:=${url:-http://127.0.0.1:$ADMIN_PORT}}"
: "\${GATEWAY_ADMIN_TOKEN_FILE:=$TOKEN_FILE}"
export GATEWAY_ADMIN_URL GATEWAY_ADMIN_TOKEN_FILE
exec dotnet "$BIN_DIR/cli/gatewayctl.dll" "\$@"
EOF
    chmod 755 "$wrapper.tmp"
    mv "$wrapper.tmp" "$wrapper"
}

# The path of the gateway's durable state file, as its config names the state directory.
gateway_state_file() {
    local dir
    dir=$(jq -r '.Gateway.StateDirectory // empty' "$GATEWAY_CONFIG" 2>/dev/null || true)
    printf '%s/state.json\n' "${dir:-$STATE/state}"
}

# Which site's PostgreSQL the gateway holds to be the one primary, one "SITE|where that was read" line per source
# that knows: the running gateway (/admin/status), then its persisted state (state.json). Nothing before the
# gateway's first start, when A is the primary.
primary_designations() {
    local json file
    if any_gateway_running && [[ -r $TOKEN_FILE ]] && json=$(admin_status_json); then
        jq -r '.database.primary // empty | "\(.)|the running gateway (/admin/status)"' <<<"$json" 2>/dev/null || true
    fi
    if clustered; then
        if json=$(etcd_state_json); then
            jq -r --arg key "$(etcd_state_key)" '.databasePrimary // empty | "\(.)|the cluster'"'"'s state in etcd (\($key))"' <<<"$json" 2>/dev/null || true
        fi
        return 0
    fi
    file=$(gateway_state_file)
    if [[ -r $file ]]; then
        jq -r --arg file "$file" '.databasePrimary // empty | "\(.)|the gateway'"'"'s persisted state (\($file))"' "$file" 2>/dev/null || true
    fi
}

# other_primary NODE: the first designation naming the other site, or nothing.
other_primary() {
    local site
    site=$(pg_site "$1")
    primary_designations | awk -F'|' -v site="$site" '$1 != "" && $1 != site { print; exit }'
}

# "B is the primary according to ...", from a designation line.
claim_text() { printf '%s is the primary according to %s\n' "${1%%|*}" "${1#*|}"; }

# hold_back NODE WHY NEXT: the node is left stopped; 'up' says why and what the operator does next, at the
# step and again at the end.
HELD_BACK=()
hold_back() {
    local node=$1 why=$2 next=$3 site
    site=$(pg_site "$node")
    HELD_BACK+=("PostgreSQL $site was not started: $why.
  Next: $next   (the gateway rebuilds $site as a standby of the primary and starts it)")
    say "  NOT starting PostgreSQL $site: $why"
    say "  next: $next"
}

start_postgresql_a() {
    step 5 "PostgreSQL A on 127.0.0.1:$PG_A_PORT ..."
    pg_init_primary
    pg_start_unless_second_primary a
    if [[ ${PG_A_FRESH:-no} == yes ]]; then
        pg_set_password
    fi
}

start_postgresql_b() {
    step 6 "PostgreSQL B on 127.0.0.1:$PG_B_PORT ..."
    pg_init_standby
    pg_start_unless_second_primary b
}

create_database() {
    local primary
    primary=$(primary_designations | head -n 1 | cut -d'|' -f1)
    primary=${primary:-A}
    step 7 "creating database broker on the primary ($primary) ..."
    pg_ensure_database "$(pg_node "$primary")"
}

prepare_filestore() {
    step 8 "preparing SAN directories and the filestore link ..."
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

# gateway_config_json [N]: gateway N's config (default 1). In cluster mode both name the etcd members, the cluster
# and their own id; everything else (sites, SANs, secrets) is the same but the listeners and the state directory.
gateway_config_json() {
    local n=${1:-1} endpoints='[]'
    clustered && endpoints=$(etcd_client_urls | jq -Rsc 'split("\n") | map(select(. != ""))')
    jq -n \
        --argjson clustered "$(clustered && echo true || echo false)" --arg cluster "$CLUSTER_NAME" --arg id "${GW_ID[$n]}" \
        --argjson endpoints "$endpoints" \
        --arg sanA "$SAN_A" --arg sanB "$SAN_B" --arg link "$FILESTORE_LINK" --arg token "$TOKEN_FILE" \
        --argjson pgA "$PG_A_PORT" --argjson pgB "$PG_B_PORT" \
        --arg a1 "http://127.0.0.1:${INSTANCE_PORT[a1]}" --arg a2 "http://127.0.0.1:${INSTANCE_PORT[a2]}" \
        --arg b1 "http://127.0.0.1:${INSTANCE_PORT[b1]}" --arg b2 "http://127.0.0.1:${INSTANCE_PORT[b2]}" \
        --arg public "http://127.0.0.1:${GW_HTTP_PORT[$n]}" --arg admin "http://127.0.0.1:${GW_ADMIN_PORT[$n]}" \
        --arg pgWrite "127.0.0.1:${GW_PG_WRITE_PORT[$n]}" --arg pgRead "127.0.0.1:${GW_PG_READ_PORT[$n]}" \
        --arg state "${GW_STATE_DIR[$n]}" --arg pgPassword "$SECRETS_DIR/pg-password" --arg pgBin "$PG_BIN" \
        --arg dataA "$(pg_data_dir a)" --arg dataB "$(pg_data_dir b)" \
        --arg backups "$PG_DIR/backups" --arg backupScratch "$PG_DIR/backup-scratch" --arg resticKey "$SECRETS_DIR/restic-key" \
        --arg verifyDeposits "$DEPLOY_DIR/backup/verify-deposits.sh" --arg pgSockets "$PG_SOCKET_DIR" \
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
        Backup: { RepositoryPath: $backups, PasswordFile: $resticKey, ScratchPath: $backupScratch,
                  VerifyCommand: $verifyDeposits, PgBackRest: { SocketDirectory: $pgSockets } },
        StateDirectory: $state
      }
    }
    | if $clustered then .Gateway.Cluster = { Etcd: { Endpoints: $endpoints }, Name: $cluster, GatewayId: $id } else . end'
}

# The ports the script itself starts and reaches things on must be those of a config kept from an earlier 'up':
# checked before anything starts, rather than PostgreSQL started on one port and the gateway waited for on another.
check_kept_config_ports() {
    local n
    for n in $(gateway_numbers); do
        check_kept_gateway_config_ports "$n"
    done
}

check_kept_gateway_config_ports() {
    local n=$1 config=${GW_CONFIG[$1]}
    [[ -f $config ]] || return 0
    local ports='[.Gateway.Listeners, [.Gateway.Sites[].Database.Port], .Gateway.Cluster.Etcd.Endpoints]' kept
    kept=$(jq -cS "$ports" "$config" 2>/dev/null || echo unreadable)
    if [[ $kept != "$(gateway_config_json "$n" | jq -cS "$ports")" ]]; then
        die "$config, kept from an earlier 'up', has other listeners or PostgreSQL ports than the DEMO_*_PORT settings give:
       $kept
       Run 'up' with the settings it was made with, or delete it (or 'deploy/demo.sh purge') to change ports"
    fi
}

# Written once; an existing config is the operator's (or a later failover's) and is kept. write_gateway_config [N]
write_gateway_config() {
    local n=${1:-1} fresh config=${GW_CONFIG[${1:-1}]}
    fresh=$(gateway_config_json "$n")
    if [[ -f $config ]]; then
        if [[ "$(jq -S . "$config" 2>/dev/null || true)" != "$(jq -S . <<<"$fresh")" ]]; then
            warn "keeping the existing $config, which differs from what the current settings give; delete it to regenerate"
        fi
    else
        printf '%s\n' "$fresh" >"$config.tmp"
        mv "$config.tmp" "$config"
    fi
}

# admin_healthz_ok [N]: gateway N's admin listener answers.
admin_healthz_ok() {
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${GW_ADMIN_PORT[${1:-1}]}/healthz" 2>/dev/null
}

# admin_status_json [N]: gateway N's /status, with the admin token sent from a file descriptor (not the command line).
# Without N: the first running gateway that answers.
admin_status_json() {
    local token n
    if [[ -z ${1:-} ]]; then
        for n in $(gateway_numbers); do
            gateway_running "$n" && admin_status_json "$n" && return 0
        done
        return 1
    fi
    token=$(<"$TOKEN_FILE")
    curl -fsS --max-time 3 -H @<(printf 'Authorization: Bearer %s\n' "$token") \
        "http://127.0.0.1:${GW_ADMIN_PORT[$1]}/admin/status" 2>/dev/null
}

show_log_tail() {
    local name=$1 log
    log=$(log_file "$name")
    printf -- '--- last lines of %s ---\n' "$log" >&2
    tail -n 25 "$log" >&2 || true
    printf -- '---\n' >&2
}

# gateway_stopping [N]: gateway N's log since its last start says it is shutting down (SIGTERM, 'down'): it exits shortly.
gateway_stopping() {
    local log name=${GW_NAME[${1:-1}]}
    log=$(log_file "$name")
    [[ -f $log ]] && tac "$log" | sed "/===== .*: starting $name =====/q" | grep -q 'Application is shutting down'
}

# A gateway still running from before is either starting or stopping. One that stops (a 'down' or SIGTERM moments
# ago) is waited for, and a new one started once it has exited, instead of failing because it went away.
wait_for_stopping_gateway() {
    local n=$1 name=${GW_NAME[$1]}
    gateway_running "$n" && ! admin_healthz_ok "$n" && gateway_stopping "$n" || return 0
    local pid deadline=$((SECONDS + 45))
    pid=$(recorded_pid "$name")
    say "  $name (pid $pid) is shutting down; waiting for it to exit before starting a new one ..."
    while gateway_running "$n"; do
        if ((SECONDS >= deadline)); then
            show_log_tail "$name"
            die "$name (pid $pid) was shutting down and has not exited within 45 s; read $(log_file "$name")"
        fi
        sleep 0.2
    done
    say "  it exited"
}

start_gateways() {
    if clustered; then
        step 9 "starting etcd (3 members) and the gateways gw1 and gw2 in cluster mode '$CLUSTER_NAME' ..."
        start_etcd
    else
        step 9 "starting the gateway (public :$HTTP_PORT, admin :$ADMIN_PORT, PG write :$PG_WRITE_PORT, PG read :$PG_READ_PORT) ..."
    fi
    write_gatewayctl_wrapper
    local n
    for n in $(gateway_numbers); do
        start_gateway "$n"
    done
}

# start_gateway N
start_gateway() {
    local n=$1 name=${GW_NAME[$1]}
    clustered && say "  ${GW_ID[$n]}: public :${GW_HTTP_PORT[$n]}, admin :${GW_ADMIN_PORT[$n]}, PG write :${GW_PG_WRITE_PORT[$n]}, PG read :${GW_PG_READ_PORT[$n]}"
    write_gateway_config "$n"
    wait_for_stopping_gateway "$n"
    local started=no
    if gateway_running "$n"; then
        say "  $name already running (pid $(recorded_pid "$name"))"
    else
        launch_gateway "$n"
        started=yes
    fi
    local deadline=$((SECONDS + 30))
    until admin_healthz_ok "$n"; do
        if ! gateway_running "$n"; then
            if [[ $started == no ]] && gateway_stopping "$n"; then
                # Asked to stop between the checks above and now: start a new one.
                say "  $name (pid $(recorded_pid "$name")) exited: it was shutting down; starting a new one"
                launch_gateway "$n"
                started=yes
                continue
            fi
            show_log_tail "$name"
            die "$name exited during start-up (see the log above: $(log_file "$name"))"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$name"
            die "$name's admin endpoint http://127.0.0.1:${GW_ADMIN_PORT[$n]}/healthz did not answer within 30 s; read $(log_file "$name")"
        fi
        sleep 0.5
    done
    [[ $started == no ]] || say "  $name up (pid $(recorded_pid "$name"))"
}

# Started from /, like the PostgreSQL tools it runs as the postgres user (rejoin, start, stop): they would
# complain about a working directory that user cannot enter (a clone under /root). launch_gateway N
launch_gateway() {
    local n=$1 port
    for port in "${GW_HTTP_PORT[$n]}" "${GW_ADMIN_PORT[$n]}" "${GW_PG_WRITE_PORT[$n]}" "${GW_PG_READ_PORT[$n]}"; do
        port_free "$port" || die "port $port (${GW_NAME[$n]}) is already in use by another program"
    done
    (cd / && launch "${GW_NAME[$n]}" dotnet "$BIN_DIR/gateway/Gateway.dll" --config "${GW_CONFIG[$n]}")
}

# ---------------------------------------------------------------------------------------------
# etcd (cluster mode): three members on loopback, each its own process and data directory under $ETCD_DIR
# ---------------------------------------------------------------------------------------------

etcd_members() { printf '%s\n' m1 m2 m3; }
etcd_index() { printf '%s\n' "${1#m}"; }
etcd_client_port() { printf '%s\n' "${ETCD_CLIENT_PORTS[$(($(etcd_index "$1") - 1))]}"; }
etcd_peer_port() { printf '%s\n' "$(($(etcd_client_port "$1") + 1))"; }
etcd_client_urls() { local m; for m in $(etcd_members); do printf 'http://127.0.0.1:%s\n' "$(etcd_client_port "$m")"; done; }
etcd_component() { printf 'etcd-%s\n' "$1"; }
etcd_signature() { printf '%s\n' --name "$1" --data-dir "$ETCD_DIR/$1"; }
etcd_running() {
    local sig
    mapfile -t sig < <(etcd_signature "$1")
    component_running "$(etcd_component "$1")" "${sig[@]}"
}
etcd_endpoints_csv() { etcd_client_urls | paste -sd, -; }
etcd_state_key() { printf '/gateway/%s/state/current\n' "$CLUSTER_NAME"; }

# The cluster's routing state (epoch, active site, primary) as etcd holds it, when a quorum answers.
etcd_state_json() {
    command -v etcdctl >/dev/null 2>&1 || return 1
    local m any=no
    for m in $(etcd_members); do etcd_running "$m" && any=yes; done
    [[ $any == yes ]] || return 1
    ETCDCTL_API=3 etcdctl --endpoints "$(etcd_endpoints_csv)" --command-timeout 2s --dial-timeout 1s \
        get --print-value-only "$(etcd_state_key)" 2>/dev/null | grep .
}

# Debian's etcd 3.4 takes every flag also from an ETCD_* variable: none of the caller's may change the members.
launch_etcd_member() {
    local member=$1 initial="" m unset=() var
    for m in $(etcd_members); do initial+="${initial:+,}$m=http://127.0.0.1:$(etcd_peer_port "$m")"; done
    for var in $(compgen -e | grep '^ETCD' || true); do unset+=(-u "$var"); done
    port_free "$(etcd_client_port "$member")" || die "port $(etcd_client_port "$member") (etcd $member) is already in use by another program"
    port_free "$(etcd_peer_port "$member")" || die "port $(etcd_peer_port "$member") (etcd $member, peer) is already in use by another program"
    install -d -m 0700 "$ETCD_DIR/$member"
    # A member restarted with its data directory rejoins; the --initial-cluster* flags are then ignored.
    launch "$(etcd_component "$member")" env "${unset[@]}" etcd --name "$member" --data-dir "$ETCD_DIR/$member" \
        --listen-client-urls "http://127.0.0.1:$(etcd_client_port "$member")" \
        --advertise-client-urls "http://127.0.0.1:$(etcd_client_port "$member")" \
        --listen-peer-urls "http://127.0.0.1:$(etcd_peer_port "$member")" \
        --initial-advertise-peer-urls "http://127.0.0.1:$(etcd_peer_port "$member")" \
        --initial-cluster "$initial" --initial-cluster-state new \
        --initial-cluster-token "gateway-demo-$(printf '%s' "$STATE" | md5sum | cut -c1-12)" \
        --heartbeat-interval 100 --election-timeout 1000 --pre-vote --logger zap --log-outputs stderr
}

etcd_member_healthy() {
    curl -fsS --max-time 2 "http://127.0.0.1:$(etcd_client_port "$1")/health" 2>/dev/null | jq -e '.health == "true"' >/dev/null 2>&1
}

start_etcd() {
    command -v etcd >/dev/null 2>&1 || die "no etcd binary: deploy/prereqs.sh etcd-server etcd-client installs it"
    local member
    for member in $(etcd_members); do
        if etcd_running "$member"; then
            say "  etcd $member already running (pid $(recorded_pid "$(etcd_component "$member")"), client :$(etcd_client_port "$member"))"
        else
            launch_etcd_member "$member"
            say "  etcd $member started (pid $(recorded_pid "$(etcd_component "$member")"), client :$(etcd_client_port "$member"), peer :$(etcd_peer_port "$member"), data $ETCD_DIR/$member)"
        fi
    done
    # A member is healthy once the cluster has a leader and it can commit: that takes a quorum.
    local deadline=$((SECONDS + 30))
    for member in $(etcd_members); do
        until etcd_member_healthy "$member"; do
            if ! etcd_running "$member"; then
                show_log_tail "$(etcd_component "$member")"
                die "etcd $member exited during start-up; read $(log_file "$(etcd_component "$member")")"
            fi
            if ((SECONDS >= deadline)); then
                show_log_tail "$(etcd_component "$member")"
                die "etcd $member did not report healthy within 30 s; read $(log_file "$(etcd_component "$member")")"
            fi
            sleep 0.3
        done
    done
    say "  etcd healthy: $(etcd_endpoints_csv)"
}

stop_etcd() {
    local member sig
    for member in m3 m2 m1; do
        mapfile -t sig < <(etcd_signature "$member")
        stop_component "$(etcd_component "$member")" "${sig[@]}"
    done
}

start_instance() {
    local id=$1 port=${INSTANCE_PORT[$1]} connection_string
    if instance_running "$id"; then
        say "  $id already running (pid $(recorded_pid "$id"))"
        return
    fi
    port_free "$port" || die "port $port (instance $id) is already in use by another program"
    # The services reach PostgreSQL only through a gateway's write endpoint; with two gateways through either
    # (Npgsql tries the hosts in order and skips one that refused for 'Host Recheck Seconds'), so losing one gateway
    # does not cut them off.
    # The connection string (with the password) goes through the environment, so 'ps' does not show it.
    connection_string="Host=$(write_endpoints);Username=postgres;Password=$(<"$SECRETS_DIR/pg-password");Database=broker;Host Recheck Seconds=1"
    Broker__ConnectionString=$connection_string \
        launch "$id" dotnet "$BIN_DIR/broker/Broker.dll" --urls "http://127.0.0.1:$port" \
        "--Broker:InstanceId=$id" "--Broker:FilestorePath=$FILESTORE_LINK"
    say "  $id started on 127.0.0.1:$port (pid $(recorded_pid "$id"))"
}

write_endpoints() {
    local n hosts=()
    for n in $(gateway_numbers); do hosts+=("127.0.0.1:${GW_PG_WRITE_PORT[$n]}"); done
    (IFS=,; printf '%s\n' "${hosts[*]}")
}

start_instances() {
    step 10 "starting broker instances a1, a2 (site A) and b1, b2 (site B) ..."
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

# What gateway N still waits for: instances it does not report Healthy, and in cluster mode a leader and its own
# writes allowed (a gateway is fenced until its session and the current epoch are confirmed).
gateway_pending() {
    local n=$1 json
    json=$(admin_status_json "$n" || true)
    if [[ -z $json ]]; then
        printf '(no answer from http://127.0.0.1:%s/admin/status)\n' "${GW_ADMIN_PORT[$n]}"
        return
    fi
    instances_not_healthy "$json"
    if clustered; then
        jq -r --arg gw "${GW_ID[$n]}" '.cluster // {} |
            (if .leader == null then "(\($gw): no leader in the cluster yet)" else empty end),
            (if .writesAllowed != true then "(\($gw) does not take writes yet: \(.sentence // "?"))" else empty end)' <<<"$json" 2>/dev/null ||
            printf '(%s: /admin/status has no readable cluster section)\n' "${GW_ID[$n]}"
    fi
}

wait_until_healthy() {
    if clustered; then
        step 11 "waiting (up to ${WAIT_SECONDS} s) until both gateways report all 4 instances Healthy and a leader ..."
    else
        step 11 "waiting (up to ${WAIT_SECONDS} s) until the gateway reports all 4 instances Healthy ..."
    fi
    local deadline=$((SECONDS + WAIT_SECONDS)) pending id n
    while true; do
        for n in $(gateway_numbers); do
            gateway_running "$n" || { show_log_tail "${GW_NAME[$n]}"; die "${GW_NAME[$n]} exited; read $(log_file "${GW_NAME[$n]}")"; }
        done
        for id in "${INSTANCES[@]}"; do
            if ! instance_running "$id"; then
                show_log_tail "$id"
                die "instance $id exited; read $(log_file "$id")"
            fi
        done
        pending=$(for n in $(gateway_numbers); do gateway_pending "$n"; done)
        [[ -z $pending ]] && break
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
    if clustered; then
        say "  leader: $(admin_status_json | jq -r '.cluster.leader // "none"')"
    fi
}

print_summary() {
    cat <<EOF

The two-site demo is up (state in $STATE).

  public HTTP          http://127.0.0.1:$HTTP_PORT
  admin API            http://127.0.0.1:$ADMIN_PORT   (token in $TOKEN_FILE)
  PG write endpoint    127.0.0.1:$PG_WRITE_PORT   (forwards to the active site's PostgreSQL)
  PG read endpoint     127.0.0.1:$PG_READ_PORT   (forwards to the other site's PostgreSQL)
$(clustered && cat <<EOC
  second gateway       public http://127.0.0.1:${GW_HTTP_PORT[2]}, admin http://127.0.0.1:${GW_ADMIN_PORT[2]}, PG write 127.0.0.1:${GW_PG_WRITE_PORT[2]}, read 127.0.0.1:${GW_PG_READ_PORT[2]}
  etcd                 $(etcd_endpoints_csv)   (data $ETCD_DIR/m1..m3; cluster '$CLUSTER_NAME')
                       one gateway leads and acts (switches, failovers); both route. 'deploy/demo.sh status' says which.
EOC
)
  PostgreSQL files     $PG_DIR   (data a/ b/, sockets sock/; linked as $STATE/pg)
  logs                 $LOG_DIR/

gatewayctl for this demo (the admin API's command line) is $(gatewayctl_wrapper); put it on the PATH:
  export PATH="$BIN_DIR:\$PATH"

Try:
  curl -s -X POST --data-binary @/etc/hostname 'http://127.0.0.1:$HTTP_PORT/deposits?name=hostname'
  gatewayctl status
  PGPASSFILE=$PGPASS_FILE psql -h 127.0.0.1 -p $PG_WRITE_PORT -U postgres broker

Stop with: deploy/demo.sh down
EOF
    local note
    for note in "${HELD_BACK[@]}"; do
        printf '\nNOTE: %s\n' "$note"
    done
}

cmd_up() {
    require_root
    install_prerequisites
    prepare_state_dir
    check_gateway_count
    check_kept_config_ports
    generate_secrets
    write_pgpass
    build_gateway
    build_broker
    build_gatewayctl
    start_postgresql_a
    start_postgresql_b
    create_database
    prepare_filestore
    start_gateways
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
    local n
    for n in 2 1; do
        mapfile -t sig < <(gateway_signature "$n")
        stop_component "${GW_NAME[$n]}" "${sig[@]}"
    done
    # After the gateways: a gateway stopping revokes its session in etcd.
    stop_etcd
    if [[ -n $PG_BIN ]]; then
        pg_stop b
        pg_stop a
    fi
    if [[ $purge == yes ]]; then
        [[ -f $STATE/.gateway-demo-state ]] ||
            die "$STATE does not look like a demo state dir (no .gateway-demo-state); not deleting it"
        if [[ $PG_DIR != "$STATE/pg" && -d $PG_DIR ]]; then
            if pg_dir_is_ours; then
                rm -rf "$PG_DIR"
                rmdir "$(dirname "$PG_DIR")" 2>/dev/null || true   # the shared parent, once no demo uses it
                say "deleted $PG_DIR"
            else
                warn "not deleting $PG_DIR: its $(pg_marker) does not name $STATE"
            fi
        fi
        rm -rf "$STATE"
        say "deleted $STATE"
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

# The note on a PostgreSQL node's row: its own role, and whether the gateway agrees that it is the primary.
pg_status_note() {
    local node=$1 role=$2 designated=$3 source=$4 site
    site=$(pg_site "$node")
    if [[ $role == primary && -n $designated && $designated != "$site" ]]; then
        printf 'primary, but NOT the designated one (%s is, per %s): the gateway sends it no traffic; rebuild it: gatewayctl db rejoin --site %s\n' \
            "$designated" "$source" "$site"
    elif [[ $role == primary && -n $designated ]]; then
        printf 'primary (designated)\n'
    else
        printf '%s\n' "$role"
    fi
}

# The database part of the gateway's /admin/status: the designated primary, each endpoint's target, each node.
print_database_status() {
    jq -r --arg write "$PG_WRITE_PORT" --arg read "$PG_READ_PORT" '
      .database as $db
      | "  database: primary \($db.primary // "none (a switch is in progress)")\(if ($db.fenced | length) > 0 then ", fenced: \($db.fenced | join(", "))" else "" end)",
        ([["write", $db.write], ["read", $db.read]][] as [$name, $e]
         | "  database \($name) endpoint :\(if $name == "write" then $write else $read end): " + (if $e.action == "Forward" then "-> site \($e.site) \($e.host):\($e.port) (\($e.reason))" else "\($e.action | ascii_downcase): \($e.reason)" end)),
      ($db.nodes[]? | "  database node \(.site): \(.role)\(if .reachable then "" else " (unreachable: \(.error // "?"))" end)\(if .timeline then ", timeline \(.timeline)" else "" end)\(if .replayLagBytes != null then ", replay lag \(.replayLagBytes) bytes" else "" end)\(if .fenced then ", FENCED" else "" end)"),
      (if (.alarms | length) > 0 then (.alarms[] | "  ALARM \(.key): \(.message)") else "  alarms: none" end)
    '
}

# Cluster mode: which gateway leads, as each running gateway's /admin/status says (its "cluster" section).
print_cluster_status() {
    local n json
    for n in $(gateway_numbers); do
        gateway_running "$n" || continue
        if ! json=$(admin_status_json "$n"); then
            say "cluster, as ${GW_ID[$n]} sees it: no answer from http://127.0.0.1:${GW_ADMIN_PORT[$n]}/admin/status"
            continue
        fi
        jq -r --arg gw "${GW_ID[$n]}" '
          .cluster as $c
          | if $c == null then "cluster, as \($gw) sees it: no cluster section in /admin/status"
            else
              "cluster \($c.name), as \($gw) sees it: leader \($c.leader // "NONE")\(if $c.leaderLeaseRemainingSeconds != null then " (lease \($c.leaderLeaseRemainingSeconds * 10 | round / 10) s left)" else "" end); \($gw) \({"Lead": "leads", "Follow": "follows", "Campaign": "campaigns", "StepDown": "steps down", "FenceWrites": "is FENCED"}[$c.role] // $c.role), writes \(if $c.writesAllowed then "allowed" else "STOPPED" end)",
              "  \($c.sentence)",
              ($c.gateways[]? | "  gateway \(.gatewayId)\(if .leads then " LEADS" else "" end): admin \(.adminUrl // "?"), routes by epoch \(.epoch // "?")")
            end' <<<"$json"
    done
}

cmd_status() {
    PG_BIN=$(find_pg_bin 2>/dev/null || true)
    say "state dir: $STATE"
    if [[ ! -d $PG_DIR ]]; then
        say "PostgreSQL files: none yet ('up' puts them in $PG_DIR)"
    elif [[ $PG_DIR == "$STATE/pg" ]]; then
        say "PostgreSQL files: $PG_DIR (data a/ b/, sockets sock/; server logs in $LOG_DIR)"
    else
        say "PostgreSQL files: $PG_DIR (data a/ b/, sockets sock/, server logs logs/; linked as $STATE/pg)"
    fi
    local json="" designated="" source="" line
    if any_gateway_running && [[ -r $TOKEN_FILE ]]; then
        json=$(admin_status_json || true)
    fi
    line=$(primary_designations | head -n 1)
    if [[ -n $line ]]; then designated=${line%%|*} source=${line#*|}; fi

    status_row COMPONENT PID STATE ADDRESS NOTE
    local node pid state note role
    for node in a b; do
        pid=- state=stopped role=stopped
        if [[ -n $PG_BIN && $EUID -eq 0 ]] && pg_running "$node"; then
            pid=$(pg_pid "$node") state=running role=$(pg_role "$node")
        elif [[ $EUID -ne 0 && -n "$(pg_pid "$node")" && -d "/proc/$(pg_pid "$node")" ]]; then
            pid=$(pg_pid "$node") state=running role="(role: run as root to ask it)"
        fi
        if ! pg_initialised "$node"; then
            note="not initialised"
        elif [[ $state == stopped && -n $designated && $designated != "$(pg_site "$node")" && ! -f "$(pg_data_dir "$node")/standby.signal" ]]; then
            note="stopped: a primary's data directory while $designated is the primary; 'up' leaves it stopped: gatewayctl db rejoin --site $(pg_site "$node")"
        else
            note=$(pg_status_note "$node" "$role" "$designated" "$source")
        fi
        status_row "pg-$node" "$pid" "$state" "127.0.0.1:$(pg_port "$node")" "$note"
    done
    local n
    for n in $(gateway_numbers); do
        pid=- state=stopped
        if gateway_running "$n"; then pid=$(recorded_pid "${GW_NAME[$n]}") state=running; fi
        note="admin :${GW_ADMIN_PORT[$n]}, PG write :${GW_PG_WRITE_PORT[$n]}, read :${GW_PG_READ_PORT[$n]}"
        clustered && note="${GW_ID[$n]}, $note"
        status_row "${GW_NAME[$n]}" "$pid" "$state" "127.0.0.1:${GW_HTTP_PORT[$n]}" "$note"
    done
    if clustered; then
        local member
        for member in $(etcd_members); do
            pid=- state=stopped note="data $ETCD_DIR/$member"
            if etcd_running "$member"; then
                pid=$(recorded_pid "$(etcd_component "$member")") state=running
                etcd_member_healthy "$member" && note="healthy, $note" || note="NOT healthy, $note"
            fi
            status_row "etcd-$member" "$pid" "$state" "127.0.0.1:$(etcd_client_port "$member")" "$note"
        done
    fi
    local id
    for id in "${INSTANCES[@]}"; do
        pid=- state=stopped
        if instance_running "$id"; then pid=$(recorded_pid "$id") state=running; fi
        status_row "$id" "$pid" "$state" "127.0.0.1:${INSTANCE_PORT[$id]}" "site $(instance_site "$id")"
    done
    if [[ -L $FILESTORE_LINK ]]; then
        say "  filestore -> $(readlink "$FILESTORE_LINK")"
    fi
    if [[ -x "$(gatewayctl_wrapper)" ]]; then
        say "  gatewayctl: $(gatewayctl_wrapper)   (export PATH=\"$BIN_DIR:\$PATH\")"
    fi

    if ! any_gateway_running; then
        [[ -z $designated ]] || say "gateway (stopped): its persisted state names $designated the database primary ($source)"
        return 0
    fi
    if clustered; then
        print_cluster_status
    fi
    if [[ -z $json ]]; then
        say "gateway /status: no answer from a gateway's /admin/status"
    elif ! jq -e . >/dev/null 2>&1 <<<"$json"; then
        say "gateway /status (not JSON): $json"
    else
        say "gateway /status:"
        jq -r '
          "  active site: \(.activeSite // "?") (epoch \(.epoch // "?"))\(if .switching then ", SWITCHING" else "" end)",
          (.instances[]? | "  instance \(.id) (site \(.site // "?")) \(.url // "") \(.health // "?")\(if .drained then ", drained" else "" end)")
        ' <<<"$json"
        print_database_status <<<"$json"
    fi
    return 0
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
