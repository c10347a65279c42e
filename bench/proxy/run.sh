#!/usr/bin/env bash
# First proxy benchmark: the gateway against direct access, HAProxy, nginx and stock YARP 2.3, all in front of
# the same two nginx backends, everything on 127.0.0.1. See bench/README.md and bench/RESULTS.md.
#
#   bench/proxy/run.sh                          # 5 rounds x 10 s per target and concurrency (~14 min)
#   ROUNDS=1 DURATION=3 bench/proxy/run.sh      # quick smoke run
#   ROUNDS=0 bench/proxy/run.sh                 # only the perf profiles of the two .NET proxies
#
# Environment:
#   ROUNDS=5        interleaved rounds per concurrency (each round runs every target once, rotated order)
#   DURATION=10     seconds per measured wrk run
#   WARMUP=3        seconds of unrecorded wrk warm-up just before each measured run
#   INITIAL_WARMUP=10  seconds of unrecorded c32 load on each target once, before the first round (JIT tiering)
#   PROFILE_WARMUP=20  seconds of c32 load on a restarted .NET proxy before perf samples it
#   QUIET_PCT=10 QUIET_WAIT=30 QUIET_BUDGET=180
#                   before each measured run, wait (up to QUIET_WAIT s, QUIET_BUDGET s in all) until the machine is
#                   less than QUIET_PCT % busy over one second: other work on a 2-core box skews everything
#   MAX_OTHER_PCT=10 RETRIES=2 RETRY_BUDGET=10
#                   a run during which other work used more than MAX_OTHER_PCT % of the machine is recorded as
#                   disturbed and run again, up to RETRIES times per run and RETRY_BUDGET extra runs in all
#   NICE=0          run wrk, the backends and every proxy at this nice level (e.g. -10, as root) so that other
#                   work on a shared machine takes less CPU from the benchmark; the same for every target
#   PERF_ARGS="-F 999 -g"  perf record's sampling options (without -g perf costs less, but no inclusive view)
#   DOTNET_ENV=""   extra environment for both .NET proxies, e.g. "DOTNET_TieredPGO=0" (an ablation knob)
#   PERF=auto       profile the gateway and stock YARP with perf after the rounds (auto: if perf works; 0: skip)
#   TARGETS="direct haproxy nginx stockyarp gateway"   which targets to run; two more measure what the gateway's
#                   per-request telemetry costs: gateway_bare (Observability:RequestTelemetry off: no
#                   request metrics, no spans) and gateway_traced (metrics on and every span exported over OTLP to a
#                   sink in the backends' nginx), e.g. TARGETS="gateway_bare gateway gateway_traced"
#   GATEWAY_REV=worktree  build the gateway from the working tree, or from a commit (e.g. HEAD) exported with
#                   git archive to a temp dir: reproducible while others have half-done edits in src/
#   SKIP_BUILD=1    reuse the binaries in bench/out/build from an earlier run
#   BASE_PORT=18100 first port tried; every port is on 127.0.0.1 and checked free with ss
#   OUT=bench/out/proxy/<UTC time>   where raw results, configs, logs and perf reports go
#
# Prints the summary table (markdown) at the end; writes nothing to bench/RESULTS.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd -P)
# shellcheck source=SCRIPTDIR/../../deploy/lib/common.sh
source "$REPO_ROOT/deploy/lib/common.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
INITIAL_WARMUP=${INITIAL_WARMUP:-10}
PROFILE_WARMUP=${PROFILE_WARMUP:-20}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-30}
QUIET_BUDGET=${QUIET_BUDGET:-180}
MAX_OTHER_PCT=${MAX_OTHER_PCT:-10}
RETRIES=${RETRIES:-2}
RETRY_BUDGET=${RETRY_BUDGET:-10}
NICE=${NICE:-0}
PERF_ARGS=${PERF_ARGS:--F 999 -g}
PERF=${PERF:-auto}
read -r -a TARGETS <<<"${TARGETS:-direct haproxy nginx stockyarp gateway}"
BASE_PORT=${BASE_PORT:-18100}
GATEWAY_REV=${GATEWAY_REV:-worktree}
SKIP_BUILD=${SKIP_BUILD:-0}
GATEWAY_SOURCE=""       # what the gateway binary was built from, for environment.txt
OUT=$(realpath -m "${OUT:-$REPO_ROOT/bench/out/proxy/$(date -u +%Y%m%dT%H%M%SZ)}")
BUILD_DIR=$REPO_ROOT/bench/out/build
CONCURRENCIES=(32 1)
BODY_BYTES=100
WRK_LUA=$BENCH_DIR/report.lua
PYTHON=/usr/bin/python3

WORK=""                 # temp dir: configs, SAN dirs, token, nginx/haproxy state
PROFILED_PIDS=()        # .NET proxies started with a perf map (/tmp/perf-<pid>.map, removed on exit)
STARTED=()              # pids (each the leader of its own process group) of everything this script started
declare -A PID=()       # target or component -> pid
declare -A PORT=()      # name -> port
declare -A USED_PORT=()
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# ---------------------------------------------------------------------------------------------------------------
# setup and teardown

check_settings() {
    [[ $ROUNDS =~ ^[0-9]+$ ]] || die "ROUNDS must be a non-negative integer (0: profile only), not '$ROUNDS'"
    [[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive integer (seconds), not '$DURATION'"
    [[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (seconds), not '$WARMUP'"
    local n
    if ! [[ $NICE =~ ^-?[0-9]+$ ]] || ((NICE < -20 || NICE > 19)); then
        die "NICE must be between -20 and 19, not '$NICE'"
    fi
    for n in QUIET_PCT QUIET_WAIT QUIET_BUDGET PROFILE_WARMUP MAX_OTHER_PCT RETRIES RETRY_BUDGET; do
        [[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a non-negative integer, not '${!n}'"
    done
    [[ $INITIAL_WARMUP =~ ^[0-9]+$ ]] || die "INITIAL_WARMUP must be a non-negative integer (seconds), not '$INITIAL_WARMUP'"
    if ! [[ $BASE_PORT =~ ^[0-9]+$ ]] || ((BASE_PORT <= 1024 || BASE_PORT >= 65000)); then
        die "BASE_PORT out of range: '$BASE_PORT'"
    fi
    local t
    for t in "${TARGETS[@]}"; do
        [[ $t =~ ^(direct|haproxy|nginx|stockyarp|gateway|gateway_bare|gateway_traced)$ ]] || die "unknown target '$t'"
    done
}

install_prereqs() {
    local packages=(haproxy nginx wrk python3)
    [[ $PERF == 0 ]] || packages+=(linux-perf)
    "$REPO_ROOT/deploy/prereqs.sh" "${packages[@]}" >"$OUT/logs/prereqs.log" 2>&1 \
        || { tail -n 20 "$OUT/logs/prereqs.log" >&2; die "deploy/prereqs.sh failed (log: $OUT/logs/prereqs.log)"; }
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_all
    local pid
    for pid in "${PROFILED_PIDS[@]}"; do
        rm -f "/tmp/perf-$pid.map" "/tmp/perfinfo-$pid.map"
    done
    [[ -n $WORK && -d $WORK ]] && rm -rf "$WORK"
    exit "$status"
}

# Stops every process group this script started, newest first: TERM, then KILL after 10 s.
stop_all() {
    local i pid waited
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        kill -TERM -- "-${STARTED[i]}" 2>/dev/null || true
    done
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        pid=${STARTED[i]}
        for ((waited = 0; waited < 100; waited++)); do
            group_alive "$pid" || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    STARTED=()
}

proc_state() { # R, S, Z, ... of one process; empty when it is gone
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    echo "${stat%% *}"
}

group_alive() { # true while process group $1 has a process that is not a zombie
    local p state
    for p in $(pgrep -g "$1" 2>/dev/null || true); do
        state=$(proc_state "$p")
        [[ -n $state && $state != Z ]] && return 0
    done
    return 1
}

process_alive() {
    local state
    state=$(proc_state "${PID[$1]}")
    [[ -n $state && $state != Z ]] || die "$1 exited early; see $OUT/logs/$1.log"
}

stop_process() { # stops one started process group and forgets it
    local name=$1 pid=${PID[$1]} waited i
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((waited = 0; waited < 100; waited++)); do
        group_alive "$pid" || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for i in "${!STARTED[@]}"; do
        [[ ${STARTED[i]} == "$pid" ]] && unset 'STARTED[i]'
    done
    STARTED=("${STARTED[@]}")
    unset 'PID[$name]'
}

# start_process NAME COMMAND... : runs COMMAND in its own session (so its workers can be stopped as a group),
# output to logs/NAME.log, and remembers its pid.
start_process() {
    local name=$1
    shift
    setsid nice -n "$NICE" "$@" >"$OUT/logs/$name.log" 2>&1 </dev/null &
    local pid=$!
    STARTED+=("$pid")
    PID[$name]=$pid
}

port_free() {
    [[ -z ${USED_PORT[$1]:-} ]] && [[ -z $(ss -Htln "sport = :$1") ]]
}

pick_ports() {
    local names=(backend1 backend2 otlp_sink haproxy nginx stockyarp) gateway
    for gateway in gateway gateway_bare gateway_traced; do
        names+=("$gateway" "${gateway}_admin" "${gateway}_pg_write" "${gateway}_pg_read")
    done
    local port=$BASE_PORT name
    for name in "${names[@]}"; do
        while ! port_free "$port"; do
            ((++port < 65535)) || die "no free port above $BASE_PORT"
        done
        PORT[$name]=$port
        USED_PORT[$port]=1
        ((++port))
    done
    PORT[direct]=${PORT[backend1]}
}

wait_until() { # wait_until SECONDS DESCRIPTION PROCESS COMMAND... (PROCESS: a name in PID, dead means give up)
    local seconds=$1 what=$2 process=$3
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        process_alive "$process"
        ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what"
        sleep 0.2
    done
}

http_ok() { curl -fsS --max-time 2 -o /dev/null "$1"; }


# ---------------------------------------------------------------------------------------------------------------
# build

build() {
    if [[ $SKIP_BUILD == 1 ]]; then
        [[ -f $BUILD_DIR/gateway/Gateway.dll && -f $BUILD_DIR/stockyarp/StockYarp.dll ]] \
            || die "SKIP_BUILD=1 but there is no earlier build in $BUILD_DIR"
        GATEWAY_SOURCE="earlier build in bench/out/build ($(cat "$BUILD_DIR/gateway.source" 2>/dev/null || echo unknown))"
        return
    fi
    local project=$REPO_ROOT/src/Gateway
    if [[ $GATEWAY_REV == worktree ]]; then
        GATEWAY_SOURCE="working tree at $(git -C "$REPO_ROOT" rev-parse --short HEAD) + $(git -C "$REPO_ROOT" status --porcelain -- src/Gateway | wc -l) uncommitted changes in src/Gateway"
    else
        local commit
        commit=$(git -C "$REPO_ROOT" rev-parse --verify "$GATEWAY_REV^{commit}") || die "GATEWAY_REV '$GATEWAY_REV' is not a commit"
        mkdir -p "$WORK/source"
        git -C "$REPO_ROOT" archive --format=tar "$commit" | tar -x -C "$WORK/source"
        project=$WORK/source/src/Gateway
        GATEWAY_SOURCE="commit $(git -C "$REPO_ROOT" rev-parse --short "$commit") ($GATEWAY_REV, exported with git archive)"
    fi
    say "building the gateway ($GATEWAY_SOURCE) and stock YARP, Release, into $BUILD_DIR"
    rm -rf "$BUILD_DIR/gateway"
    timeout 600 dotnet publish "$project" -c Release -o "$BUILD_DIR/gateway" --nologo \
        >"$OUT/logs/build-gateway.log" 2>&1 || { tail -n 30 "$OUT/logs/build-gateway.log" >&2; die "gateway build failed"; }
    timeout 600 dotnet publish "$BENCH_DIR/../StockYarp" -c Release -o "$BUILD_DIR/stockyarp" --nologo \
        >"$OUT/logs/build-stockyarp.log" 2>&1 || { tail -n 30 "$OUT/logs/build-stockyarp.log" >&2; die "stock YARP build failed"; }
    printf '%s\n' "$GATEWAY_SOURCE" >"$BUILD_DIR/gateway.source"
}

# ---------------------------------------------------------------------------------------------------------------
# the two backends: one nginx master, one worker, two server blocks

nginx_common() { # nginx_common DIR: the top of an nginx config that keeps every file inside DIR
    local dir=$1
    cat <<EOF
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
EOF
}

nginx_http_common() {
    local dir=$1
    cat <<EOF
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
EOF
}

start_backends() {
    local dir=$WORK/backends body
    mkdir -p "$dir/tmp"
    # A fixed 100-byte body (99 characters and a newline).
    body=$(printf 'backend-body-%086d' 0)
    {
        echo "worker_processes 1;"
        nginx_common "$dir"
        echo "http {"
        nginx_http_common "$dir"
        echo "    default_type text/plain;"
        local n
        for n in 1 2; do
            cat <<EOF
    server {
        listen 127.0.0.1:${PORT[backend$n]};
        location = /healthz { return 200 "ok\n"; }
        location / { return 200 "$body\n"; }
    }
EOF
        done
        # OTLP/HTTP sink for gateway_traced: accepts every export (an empty 200 is a full success to the exporter).
        cat <<EOF
    server {
        listen 127.0.0.1:${PORT[otlp_sink]};
        location / { client_body_buffer_size 1m; return 200; }
    }
EOF
        echo "}"
    } >"$dir/nginx.conf"
    cp "$dir/nginx.conf" "$OUT/config/backends-nginx.conf"
    start_process backends nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
    wait_until 15 "backend 1" backends http_ok "http://127.0.0.1:${PORT[backend1]}/healthz"
    wait_until 15 "backend 2" backends http_ok "http://127.0.0.1:${PORT[backend2]}/healthz"
    local got
    got=$(curl -fsS --max-time 2 "http://127.0.0.1:${PORT[backend1]}/" | wc -c)
    ((got == BODY_BYTES)) || die "backend body is $got bytes, expected $BODY_BYTES"
}

# ---------------------------------------------------------------------------------------------------------------
# the proxies

start_haproxy() {
    local dir=$WORK/haproxy
    mkdir -p "$dir"
    cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread 2
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    http-reuse safe
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend public
    bind 127.0.0.1:${PORT[haproxy]}
    default_backend backends

backend backends
    balance roundrobin
    server b1 127.0.0.1:${PORT[backend1]}
    server b2 127.0.0.1:${PORT[backend2]}
EOF
    cp "$dir/haproxy.cfg" "$OUT/config/haproxy.cfg"
    start_process haproxy haproxy -db -f "$dir/haproxy.cfg"
}

start_nginx_proxy() {
    local dir=$WORK/nginx-proxy
    mkdir -p "$dir/tmp"
    {
        echo "worker_processes auto;"
        nginx_common "$dir"
        echo "http {"
        nginx_http_common "$dir"
        cat <<EOF
    upstream backends {
        server 127.0.0.1:${PORT[backend1]};
        server 127.0.0.1:${PORT[backend2]};
        keepalive 32;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:${PORT[nginx]};
        location / {
            proxy_pass http://backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    cp "$dir/nginx.conf" "$OUT/config/nginx-proxy.conf"
    start_process nginx nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
}

# The .NET proxies run with the runtime's defaults (server GC, tiered compilation, W^X) for the measured rounds.
# For the profile they are restarted with PROFILE_ENV: a perf map so perf can name JIT-compiled methods, and W^X
# off, because with it on the JIT-compiled code is mapped from a memfd and perf cannot match it to the map.
PROFILE_ENV=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
read -r -a BASE_DOTNET_ENV <<<"${DOTNET_ENV:-}"
DOTNET_EXTRA_ENV=("${BASE_DOTNET_ENV[@]}")

start_stockyarp() {
    start_process stockyarp env "${DOTNET_EXTRA_ENV[@]}" dotnet "$BUILD_DIR/stockyarp/StockYarp.dll" "${PORT[stockyarp]}" \
        "http://127.0.0.1:${PORT[backend1]}" "http://127.0.0.1:${PORT[backend2]}"
}

# The gateway's HTTP features are all on (site selection, least-loaded balancing, active and passive health,
# idempotent retry, X-Forwarded replacement, host filtering, telemetry). Its two database nodes are ports nobody
# listens on: the database observer keeps probing them, and automatic failover is off so it never acts on them.
# write_gateway_config NAME: gateway as measured; gateway_bare without per-request telemetry; gateway_traced with
# every span exported over OTLP.
write_gateway_config() {
    local name=$1 dir=$WORK/$1 observability
    case $name in
        gateway) observability='{}' ;;
        gateway_bare) observability='{ "RequestTelemetry": false }' ;;
        gateway_traced) observability="{ \"OtlpEndpoint\": \"http://127.0.0.1:${PORT[otlp_sink]}\" }" ;;
    esac
    mkdir -p "$dir/san-a" "$dir/san-b" "$dir/state"
    ln -s "$dir/san-a" "$dir/filestore"
    random_hex 24 >"$dir/token"
    chmod 600 "$dir/token"
    cat >"$dir/gateway.json" <<EOF
{ "Gateway": {
    "ActiveSite": "A",
    "Sites": [
      { "Id": "A", "SanPath": "$dir/san-a", "Database": { "Host": "127.0.0.1", "Port": 1 },
        "Instances": [ { "Id": "a1", "Url": "http://127.0.0.1:${PORT[backend1]}" } ] },
      { "Id": "B", "SanPath": "$dir/san-b", "Database": { "Host": "127.0.0.1", "Port": 2 },
        "Instances": [ { "Id": "b1", "Url": "http://127.0.0.1:${PORT[backend2]}" } ] } ],
    "Filestore": { "Links": [ "$dir/filestore" ] },
    "Listeners": {
      "PublicUrl": "http://127.0.0.1:${PORT[$name]}",
      "AdminUrl": "http://127.0.0.1:${PORT[${name}_admin]}",
      "PgWriteEndpoint": "127.0.0.1:${PORT[${name}_pg_write]}",
      "PgReadEndpoint": "127.0.0.1:${PORT[${name}_pg_read]}" },
    "Database": { "AutoFailover": false },
    "Observability": $observability,
    "StateDirectory": "$dir/state",
    "Admin": { "TokenFile": "$dir/token" } },
  "Logging": { "LogLevel": { "Default": "Warning" } } }
EOF
    sed "s|$WORK|<tmp>|g" "$dir/gateway.json" >"$OUT/config/$name.json"
}

start_gateway() { # start_gateway NAME
    [[ -f $WORK/$1/gateway.json ]] || write_gateway_config "$1"
    start_process "$1" env "${DOTNET_EXTRA_ENV[@]}" dotnet "$BUILD_DIR/gateway/Gateway.dll" --config "$WORK/$1/gateway.json"
}

gateway_status() { # gateway_status NAME: the admin status document (/admin/status; /status before the admin API moved)
    local path
    for path in /admin/status /status; do
        curl -fsS --max-time 2 -H "Authorization: Bearer $(<"$WORK/$1/token")" \
            "http://127.0.0.1:${PORT[${1}_admin]}$path" && return 0
    done
    return 1
}

gateway_both_healthy() { # gateway_both_healthy NAME
    gateway_status "$1" | jq -e '[(.instances // .Instances)[] | select((.health // .Health) == "Healthy")] | length == 2'
}

start_target() {
    case $1 in
        haproxy) start_haproxy ;;
        nginx) start_nginx_proxy ;;
        stockyarp) start_stockyarp ;;
        gateway*) start_gateway "$1" ;;
    esac
}

wait_target_ready() {
    [[ $1 == direct ]] && return 0
    wait_until 60 "$1 on port ${PORT[$1]}" "$1" check_target "$1"
    if [[ $1 == gateway* ]]; then
        wait_until 60 "$1 to report both instances Healthy" "$1" gateway_both_healthy "$1"
    fi
}

start_targets() {
    local t
    for t in "${TARGETS[@]}"; do
        start_target "$t"
    done
    for t in "${TARGETS[@]}"; do
        wait_target_ready "$t"
    done
}

# Unrecorded c32 load on every target before the first round, so the .NET proxies' tiered JIT has settled.
initial_warmup() {
    ((INITIAL_WARMUP > 0 && ROUNDS > 0)) || return 0
    say "warm-up: ${INITIAL_WARMUP}s at c32 on each target (not recorded)"
    local t
    for t in "${TARGETS[@]}"; do
        run_wrk 32 "$INITIAL_WARMUP" "http://127.0.0.1:${PORT[$t]}/" >/dev/null
    done
}

check_target() { # the target is up and answers with a backend's 100-byte body
    local got
    got=$(curl -fsS --max-time 2 "http://127.0.0.1:${PORT[$1]}/" | wc -c) && ((got == BODY_BYTES))
}

# ---------------------------------------------------------------------------------------------------------------
# measurements from /proc

# The processes that make up a target: the proxy itself plus, for nginx, its worker processes.
target_pids() {
    local t=$1
    [[ $t == direct ]] && return 0
    local pid=${PID[$t]}
    echo "$pid"
    pgrep -P "$pid" || true
}

backend_pids() {
    echo "${PID[backends]}"
    pgrep -P "${PID[backends]}" || true
}

cpu_ticks() { # utime+stime of whole processes (all threads), summed, in clock ticks
    local total=0 pid stat fields
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a fields <<<"${stat##*) }"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}

rss_kib() {
    local total=0 pid kib
    for pid in "$@"; do
        kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}

ctx_switches() { # voluntary + involuntary context switches of whole processes (every thread still alive), summed
    local total=0 pid n
    for pid in "$@"; do
        n=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }')
        total=$((total + n))
    done
    echo "$total"
}

thread_count() { # threads of the processes, summed, right after a run
    local total=0 pid n
    for pid in "$@"; do
        n=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

system_ticks() { # "busy total" for the whole machine, in clock ticks
    local _cpu user nice system idle iowait irq softirq steal _rest
    read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
    local busy=$((user + nice + system + irq + softirq + steal))
    echo "$busy $((busy + idle + iowait))"
}

# CPU of this shell's finished children (wrk), from the shell's `times`, in clock ticks, into WRK_TICKS. Not a
# $(...) function: `times` in a subshell would only see the subshell.
WRK_TICKS=0
read_children_ticks() {
    times >"$WORK/times"
    local line u s
    line=$(sed -n 2p "$WORK/times")
    read -r u s <<<"$line"
    local ms=$(($(duration_ms "$u") + $(duration_ms "$s")))
    WRK_TICKS=$((ms * CLK_TCK / 1000))
}

duration_ms() { # 1m2.345s -> 62345
    [[ $1 =~ ^([0-9]+)m([0-9]+)\.([0-9]+)s$ ]] || { echo 0; return; }
    local frac=${BASH_REMATCH[3]}000
    echo $((BASH_REMATCH[1] * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${frac:0:3}))
}

machine_busy_pct() { # share of all CPUs busy over the next second
    local a b
    read -r -a a <<<"$(system_ticks)"
    sleep 1
    read -r -a b <<<"$(system_ticks)"
    echo $((100 * (b[0] - a[0]) / (b[1] - a[1] > 0 ? b[1] - a[1] : 1)))
}

# Waits until the machine is quiet (see QUIET_PCT) or the per-run or total waiting budget is spent.
QUIET_SPENT=0
wait_for_quiet() {
    local start=$SECONDS busy
    while ((SECONDS - start < QUIET_WAIT && QUIET_SPENT + SECONDS - start < QUIET_BUDGET)); do
        busy=$(machine_busy_pct)
        ((busy >= QUIET_PCT)) || break
    done
    QUIET_SPENT=$((QUIET_SPENT + SECONDS - start))
}

# ---------------------------------------------------------------------------------------------------------------
# wrk

wrk_command() { # wrk_command CONCURRENCY SECONDS URL
    local conc=$1 secs=$2 url=$3 threads=2
    ((conc > 1)) || threads=1
    echo wrk "-t$threads" "-c$conc" "-d${secs}s" --timeout 5s -s "$WRK_LUA" "$url"
}

run_wrk() {
    local cmd
    read -r -a cmd <<<"$(wrk_command "$@")"
    timeout $(($2 + 30)) nice -n "$NICE" "${cmd[@]}"
}

result_field() { # result_field NAME RESULT-LINE
    [[ $2 =~ (^| )$1=([^ ]+) ]] && echo "${BASH_REMATCH[2]}"
}

RUNS_HEADER="concurrency	round	position	target	attempt	accepted	other_pct	rps	p50_us	p99_us	mean_us	requests	errors	non2xx	proxy_ticks	proxy_rss_kib	backend_ticks	wrk_ticks	system_busy_ticks	system_total_ticks	proxy_ctx_switches	proxy_threads	loadavg1"

# measure CONCURRENCY ROUND POSITION TARGET: warm up, then one recorded run, appended to runs.tsv. A run during
# which other work took more than MAX_OTHER_PCT of the machine is recorded but not accepted, and run again (up to
# RETRIES times per run, RETRY_BUDGET extra runs in all); the summary uses accepted runs only.
RETRIES_SPENT=0
measure() {
    local conc=$1 round=$2 position=$3 target=$4 attempt=1
    while ! measure_once "$conc" "$round" "$position" "$target" "$attempt"; do
        if ((attempt > RETRIES || RETRIES_SPENT >= RETRY_BUDGET)); then
            break
        fi
        ((++attempt))
        ((++RETRIES_SPENT))
    done
}

# One warm-up and measured run; false when it was disturbed by other work (and more attempts are allowed).
measure_once() {
    local conc=$1 round=$2 position=$3 target=$4 attempt=$5
    local url="http://127.0.0.1:${PORT[$target]}/"
    [[ $target == direct ]] || process_alive "$target"
    wait_for_quiet
    ((WARMUP == 0)) || run_wrk "$conc" "$WARMUP" "$url" >/dev/null

    local pids bpids
    mapfile -t pids < <(target_pids "$target")
    mapfile -t bpids < <(backend_pids)
    local load p0 b0 w0 s0 out p1 b1 w1 s1 c0 c1
    load=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(ctx_switches "${pids[@]}")
    p0=$(cpu_ticks "${pids[@]}")
    b0=$(cpu_ticks "${bpids[@]}")
    read_children_ticks
    w0=$WRK_TICKS
    read -r -a s0 <<<"$(system_ticks)"
    out=$(run_wrk "$conc" "$DURATION" "$url") || die "wrk failed against $target: $out"
    read -r -a s1 <<<"$(system_ticks)"
    p1=$(cpu_ticks "${pids[@]}")
    b1=$(cpu_ticks "${bpids[@]}")
    c1=$(ctx_switches "${pids[@]}")
    read_children_ticks
    w1=$WRK_TICKS

    local result rss="-" proxy_ticks="-" ctx="-" threads="-"
    result=$(grep '^RESULT ' <<<"$out") || die "no RESULT line from wrk against $target: $out"
    if [[ $target != direct ]]; then
        rss=$(rss_kib "${pids[@]}")
        proxy_ticks=$((p1 - p0))
        ctx=$((c1 - c0))
        threads=$(thread_count "${pids[@]}")
    fi
    local busy=$((s1[0] - s0[0])) total=$((s1[1] - s0[1]))
    local other_pct=$((100 * (busy - ${proxy_ticks/-/0} - (b1 - b0) - (w1 - w0)) / (total > 0 ? total : 1)))
    local accepted=1
    if ((other_pct > MAX_OTHER_PCT && attempt <= RETRIES && RETRIES_SPENT < RETRY_BUDGET)); then
        accepted=0
    fi
    local errors=0 kind
    for kind in err_connect err_read err_write err_timeout; do
        errors=$((errors + $(result_field "$kind" "$result")))
    done
    local rps p50 p99 non2xx
    rps=$(result_field rps "$result")
    p50=$(result_field p50_us "$result")
    p99=$(result_field p99_us "$result")
    non2xx=$(result_field non2xx "$result")
    printf '%s\t' "$conc" "$round" "$position" "$target" "$attempt" "$accepted" "$other_pct" "$rps" "$p50" "$p99" \
        "$(result_field mean_us "$result")" "$(result_field requests "$result")" "$errors" "$non2xx" \
        "$proxy_ticks" "$rss" "$((b1 - b0))" "$((w1 - w0))" "$busy" "$total" "$ctx" "$threads" >>"$OUT/runs.tsv"
    printf '%s\n' "$load" >>"$OUT/runs.tsv"
    printf '  c%-2s round %d  %-9s %9s req/s  p50 %6s us  p99 %7s us  other CPU %3s%%%s%s\n' "$conc" "$round" "$target" \
        "$rps" "$p50" "$p99" "$other_pct" \
        "$( ((errors + non2xx == 0)) || echo "  ($errors socket errors, $non2xx non-2xx)")" \
        "$( ((accepted)) || echo "  -> disturbed, run again")"
    ((accepted))
}

run_rounds() {
    local conc round i n=${#TARGETS[@]} target
    printf '%s\n' "$RUNS_HEADER" >"$OUT/runs.tsv"
    ((ROUNDS > 0)) || return 0
    for conc in "${CONCURRENCIES[@]}"; do
        say "concurrency $conc: $ROUNDS rounds, each target ${WARMUP}s warm-up + ${DURATION}s measured"
        say "  command: $(wrk_command "$conc" "$DURATION" "http://127.0.0.1:<port>/" | sed "s|$REPO_ROOT/||")"
        for ((round = 1; round <= ROUNDS; round++)); do
            for ((i = 0; i < n; i++)); do
                # Rotate the order each round, so slow drift (thermal, other load, GC state) hits every target alike.
                target=${TARGETS[(i + round - 1) % n]}
                measure "$conc" "$round" "$((i + 1))" "$target"
            done
        done
    done
}

# ---------------------------------------------------------------------------------------------------------------
# perf: where the .NET proxies' CPU goes

perf_usable() {
    command -v perf >/dev/null 2>&1 \
        && timeout 30 perf record -e cpu-clock -F 99 -o "$WORK/perf-check.data" -- true >/dev/null 2>&1
}

# profile TARGET: restarts the .NET proxy with PROFILE_ENV and warms it up, then one extra, unrecorded c32 run with
# perf sampling its process (cpu-clock: this VM has no hardware counters), repeated like a measured run when other
# work disturbed it; then perf's flat profiles of the last attempt.
profile() {
    local target=$1
    stop_process "$target"
    DOTNET_EXTRA_ENV=("${BASE_DOTNET_ENV[@]}" "${PROFILE_ENV[@]}")
    start_target "$target"
    DOTNET_EXTRA_ENV=("${BASE_DOTNET_ENV[@]}")
    PROFILED_PIDS+=("${PID[$target]}")
    wait_target_ready "$target"
    run_wrk 32 "$PROFILE_WARMUP" "http://127.0.0.1:${PORT[$target]}/" >/dev/null
    local attempt=1
    while ! profile_once "$target" "$attempt"; do
        if ((attempt > RETRIES || RETRIES_SPENT >= RETRY_BUDGET)); then
            break
        fi
        ((++attempt))
        ((++RETRIES_SPENT))
    done
    local data="$OUT/perf/$target.data"
    local report=(timeout 300 perf report -i "$data" --no-children -g none --stdio)
    "${report[@]}" -F overhead,comm,dso,sym -t $'\t' --percent-limit 0 \
        >"$OUT/perf/$target.symbols.tsv" 2>"$OUT/logs/perf-report-$target.log"
    "${report[@]}" --sort dso >"$OUT/perf/$target.dso.txt" 2>>"$OUT/logs/perf-report-$target.log"
    "${report[@]}" --sort comm >"$OUT/perf/$target.threads.txt" 2>>"$OUT/logs/perf-report-$target.log"
    # Whole stacks (when sampled), for the inclusive view in the summary; and the perf map, to read the data again.
    if [[ " $PERF_ARGS " == *" -g "* || $PERF_ARGS == *--call-graph* ]]; then
        timeout 300 perf script -i "$data" -F comm,ip,sym,dso 2>>"$OUT/logs/perf-report-$target.log" \
            | "$PYTHON" "$BENCH_DIR/perf_fold.py" | gzip >"$OUT/perf/$target.folded.gz"
    fi
    cp "/tmp/perf-${PID[$target]}.map" "$OUT/perf/$target.perf-${PID[$target]}.map" 2>/dev/null || true
}

profile_once() { # false when other work disturbed the run and another attempt is allowed
    local target=$1 attempt=$2 pid=${PID[$1]}
    local url="http://127.0.0.1:${PORT[$target]}/" data="$OUT/perf/$target.data"
    local bpids
    mapfile -t bpids < <(backend_pids)
    wait_for_quiet
    # shellcheck disable=SC2086 # PERF_ARGS is a list of options
    setsid perf record -e cpu-clock $PERF_ARGS -p "$pid" -o "$data" -- sleep $((DURATION + 1)) \
        >"$OUT/logs/perf-$target.log" 2>&1 </dev/null &
    local perf_pid=$!
    STARTED+=("$perf_pid")
    sleep 0.5
    local t0 t1 b0 b1 w0 w1 s0 s1 perf_ticks out
    t0=$(cpu_ticks "$pid")
    b0=$(cpu_ticks "${bpids[@]}")
    read_children_ticks
    w0=$WRK_TICKS
    read -r -a s0 <<<"$(system_ticks)"
    out=$(run_wrk 32 "$DURATION" "$url") || die "wrk failed against $target under perf: $out"
    read -r -a s1 <<<"$(system_ticks)"
    t1=$(cpu_ticks "$pid")
    b1=$(cpu_ticks "${bpids[@]}")
    perf_ticks=$(cpu_ticks "$perf_pid")
    read_children_ticks
    w1=$WRK_TICKS
    wait "$perf_pid" || die "perf record failed for $target; see $OUT/logs/perf-$target.log"
    local busy=$((s1[0] - s0[0])) total=$((s1[1] - s0[1]))
    local other_pct=$((100 * (busy - (t1 - t0) - (b1 - b0) - (w1 - w0) - perf_ticks) / (total > 0 ? total : 1)))
    local accepted=1
    if ((other_pct > MAX_OTHER_PCT && attempt <= RETRIES && RETRIES_SPENT < RETRY_BUDGET)); then
        accepted=0
    fi
    local result
    result=$(grep '^RESULT ' <<<"$out")
    printf '%s\t' "$target" "$attempt" "$accepted" "$other_pct" "$(result_field requests "$result")" "$((t1 - t0))" \
        >>"$OUT/perf/cpu.tsv"
    printf '%s\n' "$(result_field rps "$result")" >>"$OUT/perf/cpu.tsv"
    say "  perf: $target, $(result_field rps "$result") req/s under perf, other CPU ${other_pct}%$( ((accepted)) || echo " -> disturbed, run again")"
    ((accepted))
}

run_profiles() {
    [[ $PERF != 0 ]] || return 0
    if ! perf_usable; then
        warn "perf does not work here; skipping the profile (compare gateway and stock YARP CPU/request instead)"
        return 0
    fi
    mkdir -p "$OUT/perf"
    printf 'target\tattempt\taccepted\tother_pct\trequests\tticks\trps\n' >"$OUT/perf/cpu.tsv"
    say "perf: profiling the .NET proxies during one extra c32 run each (perf record -e cpu-clock $PERF_ARGS)"
    local t
    for t in "${TARGETS[@]}"; do
        [[ $t == gateway* || $t == stockyarp ]] && profile "$t"
    done
    return 0
}

# ---------------------------------------------------------------------------------------------------------------

record_environment() {
    {
        echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        local skip=""
        [[ $SKIP_BUILD != 1 ]] || skip="SKIP_BUILD=1 "
        echo "command: ${skip}ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP PERF=$PERF NICE=$NICE GATEWAY_REV=$GATEWAY_REV ${DOTNET_ENV:+DOTNET_ENV=\"$DOTNET_ENV\" }TARGETS=\"${TARGETS[*]}\" bench/proxy/run.sh"
        echo "settings: WARMUP=$WARMUP INITIAL_WARMUP=$INITIAL_WARMUP PROFILE_WARMUP=$PROFILE_WARMUP QUIET_PCT=$QUIET_PCT QUIET_WAIT=$QUIET_WAIT QUIET_BUDGET=$QUIET_BUDGET MAX_OTHER_PCT=$MAX_OTHER_PCT RETRIES=$RETRIES RETRY_BUDGET=$RETRY_BUDGET NICE=$NICE DOTNET_ENV=\"${DOTNET_ENV:-}\" PERF_ARGS=\"$PERF_ARGS\""
        echo "wrk c32: $(wrk_command 32 "$DURATION" "http://127.0.0.1:<port>/" | sed "s|$REPO_ROOT/||")"
        echo "wrk c1: $(wrk_command 1 "$DURATION" "http://127.0.0.1:<port>/" | sed "s|$REPO_ROOT/||")"
        echo "kernel: $(uname -r)"
        echo "os: Debian $(cat /etc/debian_version)"
        echo "cpus: $NCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))"
        echo "memory: $(awk '/^MemTotal/ { print $2, $3 }' /proc/meminfo)"
        echo "haproxy: $(haproxy -v | head -n 1)"
        echo "nginx: $(nginx -v 2>&1)"
        echo "wrk: $(dpkg-query -W -f='${Version}' wrk)"
        echo "dotnet runtime: $(dotnet --list-runtimes | grep AspNetCore | tail -n 1)"
        echo "gateway built from: $GATEWAY_SOURCE"
        echo "loadavg at start: $(cat /proc/loadavg)"
        echo "ports: $(for k in "${!PORT[@]}"; do printf '%s=%s ' "$k" "${PORT[$k]}"; done)"
    } >"$OUT/environment.txt"
}

main() {
    check_settings
    mkdir -p "$OUT/logs" "$OUT/config"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK=$(mktemp -d /tmp/bench-proxy.XXXXXX)
    chmod 755 "$WORK" # nginx workers run as nobody

    say "bench: results in $OUT"
    install_prereqs
    build
    pick_ports
    record_environment
    start_backends
    start_targets
    initial_warmup
    say "bench: all targets up (${TARGETS[*]}); $ROUNDS rounds x ${#CONCURRENCIES[@]} concurrencies x ${#TARGETS[@]} targets x $((WARMUP + DURATION))s"
    run_rounds
    run_profiles
    "$PYTHON" "$BENCH_DIR/summarize.py" "$OUT" "$CLK_TCK" | tee "$OUT/summary.md"
    say "bench: waited ${QUIET_SPENT}s in all for the machine to be quiet before runs; $RETRIES_SPENT runs repeated because other work disturbed them"
    say "bench: raw results, configs, logs and perf reports in $OUT"
}

main "$@"
