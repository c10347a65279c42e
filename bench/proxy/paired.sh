#!/usr/bin/env bash
# Paired runs: two proxies loaded at the same time, each by its own wrk, instead of one after the other.
#
# On this shared 2-core VM the same build's req/s moves by up to 25 % from one 10-second run to the next (the host's
# load comes and goes), so sequential runs cannot resolve a difference of a few per cent. Run side
# by side, both proxies meet the same host at the same moment; what differs between them is their own cost. Two
# figures per round:
#   - CPU µs per request of A / of B (utime+stime from /proc over the window ÷ requests): the cost ratio, the
#     figure to read. An A/A run (a target against its own copy, NAME.2) measured 1.009, range 0.943 to 1.021, over
#     7 rounds (bench/RESULTS.md);
#   - req/s of A / req/s of B: which one got more done in the window. Not a cost ratio: the scheduler does not split
#     the two cores evenly between two busy processes (it favours the one with more runnable threads; equal
#     cpu.shares cgroups were tried and made it worse, A/A 0.69 to 1.17).
# Medians over the rounds; the order in which the two wrk are started alternates.
#
#   bench/proxy/paired.sh bench/out/proxy/<time> gateway_traced gateway_bare
#   ROUNDS=15 bench/proxy/paired.sh bench/out/proxy/<time> gateway stockyarp
#   bench/proxy/paired.sh bench/out/proxy/<time> gateway gateway.2    # A/A: the method's own spread and bias
#
# Reuses the backends' config, the gateway configs (gateway, gateway_bare, gateway_traced) and the builds
# (bench/out/build) of an earlier bench/proxy/run.sh run; the run must have had the targets named here.
# Environment: ROUNDS=11 DURATION=10 (seconds per measured window) WARMUP=20 (seconds of paired load first, not
# recorded) CONCURRENCY="16 1" (connections per proxy: 16 each is the 32 of run.sh shared by two)
# ENV_A, ENV_B (runtime settings for one side only, e.g. ENV_A="DOTNET_gcServer=0": the same build with one knob
# turned, against itself without it). GATEWAY_BUILD_B=DIR runs side B's gateway from another build (a directory with
# Gateway.dll and a gateway.source line, e.g. main's commit published with dotnet publish): a change against the
# build it replaces, with the same configuration, e.g.
#   GATEWAY_BUILD_B=bench/out/build-main bench/proxy/paired.sh bench/out/proxy/<time> gateway gateway.2
# Target gateway_cluster is gateway's config in cluster mode (Gateway:Cluster) on a one-member etcd this script starts
# in its work directory: the request path with cluster mode on against off (the request path never reads etcd), e.g.
#   bench/proxy/paired.sh bench/out/proxy/<time> gateway_cluster gateway
set -euo pipefail

RUN=${1:?usage: bench/proxy/paired.sh bench/out/proxy/<time> TARGET_A TARGET_B}
A=${2:?name the first target (stockyarp, gateway, gateway_bare or gateway_traced)}
B=${3:?name the second target}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=SCRIPTDIR/../../deploy/lib/common.sh
source "$REPO_ROOT/deploy/lib/common.sh"
# shellcheck source=SCRIPTDIR/lib.sh
source "$REPO_ROOT/bench/proxy/lib.sh"
ROUNDS=${ROUNDS:-11}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-20}
read -r -a CONCURRENCY <<<"${CONCURRENCY:-16 1}"
CONFIG=$RUN/config
BUILD=$REPO_ROOT/bench/out/build
GATEWAY_BUILD_B=${GATEWAY_BUILD_B:+$(realpath -m "$GATEWAY_BUILD_B")}
WRK_LUA=$REPO_ROOT/bench/proxy/report.lua
CLK_TCK=$(getconf CLK_TCK)

for n in ROUNDS DURATION WARMUP; do
    [[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a non-negative integer, not '${!n}'"
done
((ROUNDS > 0 && DURATION > 0)) || die "ROUNDS and DURATION must be positive"
[[ $A != "$B" ]] || die "name two different targets, not $A twice (a second copy of one is NAME.2)"
kind() { echo "${1%.2}"; } # gateway.2 is a second gateway with gateway's config on other ports
config_of() { [[ $(kind "$1") == gateway_cluster ]] && echo gateway || kind "$1"; } # the run.sh config a target starts from
for t in "$A" "$B"; do
    case $(kind "$t") in
        stockyarp) [[ -f $BUILD/stockyarp/StockYarp.dll ]] || die "no stock YARP build in $BUILD/stockyarp: run bench/proxy/run.sh first" ;;
        gateway | gateway_bare | gateway_traced | gateway_cluster) [[ -f $CONFIG/$(config_of "$t").json ]] || die "$CONFIG has no $(config_of "$t").json: run bench/proxy/run.sh with TARGETS including $(config_of "$t")" ;;
        *) die "unknown target '$t' (stockyarp, gateway, gateway_bare, gateway_traced or gateway_cluster)" ;;
    esac
done
[[ -f $CONFIG/backends-nginx.conf && -f $BUILD/gateway/Gateway.dll ]] || die "$RUN has no config/backends-nginx.conf, or $BUILD/gateway has no build"
[[ -z $GATEWAY_BUILD_B || -f $GATEWAY_BUILD_B/Gateway.dll ]] || die "GATEWAY_BUILD_B=$GATEWAY_BUILD_B has no Gateway.dll"
gateway_build() { # gateway_build TARGET: the directory its Gateway.dll comes from
    [[ $1 == "$B" && -n $GATEWAY_BUILD_B ]] && echo "$GATEWAY_BUILD_B" || echo "$BUILD/gateway"
}

WORK=$(mktemp -d /tmp/bench-paired.XXXXXX)
chmod 755 "$WORK" # nginx workers run as nobody
declare -A PID=() URL=()
read -r -a TARGET_ENV_A <<<"${ENV_A:-}"
read -r -a TARGET_ENV_B <<<"${ENV_B:-}"
for setting in "${TARGET_ENV_A[@]}" "${TARGET_ENV_B[@]}"; do
    [[ $setting =~ ^[A-Za-z_][A-Za-z0-9_.]*=[^[:space:]]*$ ]] || die "ENV_A and ENV_B take NAME=VALUE words, not '$setting'"
done
cleanup() {
    local pid
    for pid in "${PID[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -z ${ETCD_PID:-} ]] || kill "$ETCD_PID" 2>/dev/null || true
    stop_run_backends "$WORK"
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start_run_backends "$CONFIG" "$WORK"
mapfile -t BACKEND_PORTS < <(grep -oE 'listen 127\.0\.0\.1:[0-9]+' "$WORK/nginx.conf" | grep -oE '[0-9]+$' | head -n 2)

start_target() { # start_target NAME [NAME=VALUE ...]: the settings go to its runtime's environment
    local t=$1 dir=$WORK/$1 port kind
    kind=$(kind "$t")
    mkdir -p "$dir"
    if [[ $kind == stockyarp ]]; then
        port=$(free_port 18400)
        env "${@:2}" dotnet "$BUILD/stockyarp/StockYarp.dll" "$port" "http://127.0.0.1:${BACKEND_PORTS[0]}" "http://127.0.0.1:${BACKEND_PORTS[1]}" >"$dir/log" 2>&1 &
    else
        mkdir -p "$dir/san-a" "$dir/san-b" "$dir/state"
        ln -sfn "$dir/san-a" "$dir/filestore"
        echo paired >"$dir/token"
        sed "s|<tmp>/$(config_of "$t")/|$dir/|g; s|<tmp>|$WORK|g" "$CONFIG/$(config_of "$t").json" >"$dir/config.json"
        if [[ $kind == gateway_cluster ]]; then
            start_etcd
            jq --arg endpoint "$ETCD_URL" '.Gateway.Cluster = { Etcd: { Endpoints: [$endpoint] }, Name: "paired", GatewayId: "gw1" }' \
                "$dir/config.json" >"$dir/config.json.tmp" && mv "$dir/config.json.tmp" "$dir/config.json"
        fi
        if [[ $t != "$(config_of "$t")" ]]; then # a second target on one run.sh config: gateway.2, gateway_cluster
            move_listeners "$dir/config.json"
        fi
        port=$(grep -oE '"PublicUrl": "[^"]*' "$dir/config.json" | grep -oE '[0-9]+$')
        env "${@:2}" dotnet "$(gateway_build "$t")/Gateway.dll" --config "$dir/config.json" >"$dir/log" 2>&1 &
    fi
    PID[$t]=$!
    URL[$t]=http://127.0.0.1:$port/
    local _
    for _ in $(seq 150); do
        curl -sf "${URL[$t]}" >/dev/null && return 0
        kill -0 "${PID[$t]}" 2>/dev/null || die "$t exited at start; its log: $(tail -n 5 "$dir/log")"
        sleep 0.2
    done
    die "$t did not answer on ${URL[$t]} within 30 s; its log: $(tail -n 5 "$dir/log")"
}

# One etcd member for gateway_cluster (Debian's etcd-server: deploy/prereqs.sh etcd-server etcd-client), every ETCD_*
# variable of the caller's cleared (etcd reads its flags from them too).
start_etcd() {
    [[ -z ${ETCD_PID:-} ]] || return 0
    command -v etcd >/dev/null || die "no etcd: deploy/prereqs.sh etcd-server etcd-client"
    local client peer unset=() var _
    client=$(free_port 18700)
    peer=$(free_port $((client + 1)))
    for var in $(compgen -e | grep '^ETCD' || true); do unset+=(-u "$var"); done
    env "${unset[@]}" etcd --name m1 --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$client" \
        --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "m1=http://127.0.0.1:$peer" \
        --logger zap --log-outputs stderr >"$WORK/etcd.log" 2>&1 &
    ETCD_PID=$!
    ETCD_URL=http://127.0.0.1:$client
    for _ in $(seq 100); do
        curl -fsS --max-time 1 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"' && return 0
        sleep 0.2
    done
    die "etcd did not become healthy on $ETCD_URL; its log: $(tail -n 5 "$WORK/etcd.log")"
}

free_port() { # the first port from $1 up that nothing listens on
    local port=$1
    while [[ -n $(ss -Htln "sport = :$port") ]]; do ((++port)); done
    echo "$port"
}

move_listeners() { # move_listeners CONFIG: the gateway's four listeners to free ports (a second copy of a config)
    local key old new=18500
    for key in PublicUrl AdminUrl PgWriteEndpoint PgReadEndpoint; do
        old=$(grep -oE "\"$key\": \"[^\"]*" "$1" | grep -oE '[0-9]+$')
        new=$(free_port $((new + 1)))
        sed -i "s|\(\"$key\": \"[^\"]*:\)$old\"|\1$new\"|" "$1"
    done
}

cpu_ticks() { # utime+stime of one process, all threads
    local stat fields
    stat=$(cat "/proc/$1/stat")
    read -r -a fields <<<"${stat##*) }"
    echo $((fields[11] + fields[12]))
}

wrk_at() { # wrk_at CONNECTIONS SECONDS URL OUTPUT
    timeout $(($2 + 30)) wrk -t1 "-c$1" "-d${2}s" --timeout 5s -s "$WRK_LUA" "$3" >"$4" 2>&1
}

field() { # field NAME FILE: a value of wrk's RESULT line
    grep '^RESULT ' "$2" | grep -oE "(^| )$1=[^ ]+" | cut -d= -f2
}

# paired_window CONNECTIONS SECONDS: both wrk started together; prints "rps_a rps_b cpu_us_per_req_a cpu_us_per_req_b".
paired_window() {
    local conc=$1 secs=$2 first=$3 second ta0 tb0 ta1 tb1 pids=()
    [[ $first == "$A" ]] && second=$B || second=$A
    ta0=$(cpu_ticks "${PID[$A]}")
    tb0=$(cpu_ticks "${PID[$B]}")
    wrk_at "$conc" "$secs" "${URL[$first]}" "$WORK/wrk-$first" &
    pids+=($!)
    wrk_at "$conc" "$secs" "${URL[$second]}" "$WORK/wrk-$second" &
    pids+=($!)
    wait "${pids[@]}" || die "wrk failed: $(cat "$WORK/wrk-$A" "$WORK/wrk-$B")"
    ta1=$(cpu_ticks "${PID[$A]}")
    tb1=$(cpu_ticks "${PID[$B]}")
    local t errors
    for t in "$A" "$B"; do
        errors=$(($(field err_connect "$WORK/wrk-$t") + $(field err_read "$WORK/wrk-$t") + $(field err_timeout "$WORK/wrk-$t") + $(field non2xx "$WORK/wrk-$t")))
        ((errors == 0)) || die "$t: $errors failed requests in a paired window; see its log in $WORK/$t/log"
    done
    local na nb
    na=$(field requests "$WORK/wrk-$A")
    nb=$(field requests "$WORK/wrk-$B")
    awk -v ra="$(field rps "$WORK/wrk-$A")" -v rb="$(field rps "$WORK/wrk-$B")" -v ca=$((ta1 - ta0)) -v cb=$((tb1 - tb0)) \
        -v na="$na" -v nb="$nb" -v hz="$CLK_TCK" 'BEGIN { printf "%s %s %.2f %.2f\n", ra, rb, ca * 1e6 / hz / na, cb * 1e6 / hz / nb }'
}

start_target "$A" "${TARGET_ENV_A[@]}"
start_target "$B" "${TARGET_ENV_B[@]}"
echo "# paired runs: $A${ENV_A:+ ($ENV_A)} vs $B${ENV_B:+ ($ENV_B)}, $ROUNDS rounds of ${DURATION}s per concurrency; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: ${ENV_A:+ENV_A=\"$ENV_A\" }${ENV_B:+ENV_B=\"$ENV_B\" }${GATEWAY_BUILD_B:+GATEWAY_BUILD_B=$GATEWAY_BUILD_B }ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=\"${CONCURRENCY[*]}\" bench/proxy/paired.sh $RUN $A $B"
echo "# builds: $(cat "$BUILD/gateway.source" 2>/dev/null || echo "gateway build of unknown source")${GATEWAY_BUILD_B:+; side B: $(cat "$GATEWAY_BUILD_B/gateway.source" 2>/dev/null || echo "$GATEWAY_BUILD_B")}"
for conc in "${CONCURRENCY[@]}"; do
    ((WARMUP == 0)) || paired_window "$conc" "$WARMUP" "$A" >/dev/null
    echo
    echo "## $conc connections per proxy (wrk -t1 -c$conc against each, at the same time)"
    echo
    echo "| round | $A req/s | $B req/s | req/s $A / $B | $A CPU µs/req | $B CPU µs/req | CPU/req $A / $B |"
    echo "|--:|--:|--:|--:|--:|--:|--:|"
    rows=()
    for ((round = 1; round <= ROUNDS; round++)); do
        ((round % 2)) && first=$A || first=$B
        read -r ra rb ca cb <<<"$(paired_window "$conc" "$DURATION" "$first")"
        rows+=("$ra $rb $ca $cb")
        awk -v r="$round" -v ra="$ra" -v rb="$rb" -v ca="$ca" -v cb="$cb" \
            'BEGIN { printf "| %d | %.0f | %.0f | %.3f | %.1f | %.1f | %.3f |\n", r, ra, rb, ra / rb, ca, cb, ca / cb }'
    done
    printf '%s\n' "${rows[@]}" | /usr/bin/python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
rps = [a / b for a, b, _, _ in rows]
cpu = [ca / cb for _, _, ca, cb in rows]
print(f"\nMedian of {len(rows)} rounds: req/s ratio {statistics.median(rps):.3f} (range {min(rps):.3f} to {max(rps):.3f}), "
      f"CPU per request ratio {statistics.median(cpu):.3f} (range {min(cpu):.3f} to {max(cpu):.3f})")'
done
