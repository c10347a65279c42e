#!/usr/bin/env bash
# What each gateway build does per request, counted by the gateway itself rather than timed: managed bytes allocated,
# thread-pool work items and GC collections per request (deltas of its own /metrics over one wrk run), beside the CPU
# time per request. Counts do not move with the machine's noise the way req/s and CPU time do on a shared 2-core VM,
# so a few hundred bytes of difference show. Reuses the configs and the build of an earlier bench/proxy/run.sh run.
#
#   bench/proxy/work_per_request.sh bench/out/proxy/<time>                   # gateway_bare gateway gateway_traced
#   VARIANTS="gateway gateway_bare" ROUNDS=3 bench/proxy/work_per_request.sh bench/out/proxy/<time>
set -euo pipefail

RUN=${1:?usage: bench/proxy/work_per_request.sh bench/out/proxy/<time> (a run of bench/proxy/run.sh with the gateway targets)}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=SCRIPTDIR/../../deploy/lib/common.sh
source "$REPO_ROOT/deploy/lib/common.sh"
# shellcheck source=SCRIPTDIR/lib.sh
source "$REPO_ROOT/bench/proxy/lib.sh"
read -r -a VARIANTS <<<"${VARIANTS:-gateway_bare gateway gateway_traced}"
ROUNDS=${ROUNDS:-2}
CONFIG=$RUN/config
GATEWAY_DLL=${GATEWAY_DLL:-$REPO_ROOT/bench/out/build/gateway/Gateway.dll} # another build: GATEWAY_DLL=bench/out/build-main/Gateway.dll
[[ -f $CONFIG/backends-nginx.conf && -f $GATEWAY_DLL ]] || die "$RUN has no config/backends-nginx.conf, or bench/out/build/gateway has no build: run bench/proxy/run.sh first"

WORK=$(mktemp -d /tmp/bench-work-per-request.XXXXXX)
GATEWAY_PID=""
cleanup() {
    [[ -z $GATEWAY_PID ]] || kill "$GATEWAY_PID" 2>/dev/null || true
    stop_run_backends "$WORK"
    rm -rf "$WORK"
}
trap cleanup EXIT

start_run_backends "$CONFIG" "$WORK"

metric() { # metric ADMIN_PORT NAME
    curl -sf -H "Authorization: Bearer work-per-request" "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

echo "| build | round | requests | bytes allocated/req | thread-pool items/req | gen0 GCs per 1000 req | CPU µs/req |"
echo "|---|--:|--:|--:|--:|--:|--:|"
for ((round = 1; round <= ROUNDS; round++)); do
    for variant in "${VARIANTS[@]}"; do
        dir=$WORK/$variant
        mkdir -p "$dir/san-a" "$dir/san-b" "$dir/state"
        ln -sfn "$dir/san-a" "$dir/filestore"
        echo work-per-request >"$dir/token"
        sed "s|<tmp>|$WORK|g" "$CONFIG/$variant.json" >"$dir/config.json"
        public=$(grep -oE '"PublicUrl": "[^"]*' "$dir/config.json" | grep -oE '[0-9]+$')
        admin=$(grep -oE '"AdminUrl": "[^"]*' "$dir/config.json" | grep -oE '[0-9]+$')
        dotnet "$GATEWAY_DLL" --config "$dir/config.json" >"$dir/log" 2>&1 &
        GATEWAY_PID=$!
        for _ in $(seq 100); do curl -sf "http://127.0.0.1:$public/" >/dev/null && break; sleep 0.2; done
        wrk -t2 -c32 -d15s "http://127.0.0.1:$public/" >/dev/null # JIT tiering and pools settle first
        read -r a0 t0 g0 c0 < <(echo "$(metric "$admin" dotnet_gc_allocated_bytes_total) $(metric "$admin" dotnet_thread_pool_completed_items_total) $(metric "$admin" 'dotnet_gc_collections_total{generation="gen0"}') $(metric "$admin" process_cpu_seconds_total)")
        requests=$(wrk -t2 -c32 -d10s "http://127.0.0.1:$public/" | awk '/requests in/ { print $1 }')
        read -r a1 t1 g1 c1 < <(echo "$(metric "$admin" dotnet_gc_allocated_bytes_total) $(metric "$admin" dotnet_thread_pool_completed_items_total) $(metric "$admin" 'dotnet_gc_collections_total{generation="gen0"}') $(metric "$admin" process_cpu_seconds_total)")
        kill "$GATEWAY_PID"
        wait "$GATEWAY_PID" || true
        GATEWAY_PID=""
        awk -v v="$variant" -v r="$round" -v n="$requests" -v a="$((a1 - a0))" -v t="$((t1 - t0))" -v g="$g0 $g1" -v c="$c0 $c1" 'BEGIN {
            split(g, gg, " "); split(c, cc, " ");
            printf "| %s | %d | %d | %.0f | %.2f | %.2f | %.1f |\n", v, r, n, a / n, t / n, (gg[2] - gg[1]) * 1000 / n, (cc[2] - cc[1]) * 1e6 / n }'
    done
done
