#!/usr/bin/env bash
# The benchmark report: runs every benchmark of bench/ in one go on this machine and rewrites the generated part of
# bench/RESULTS.md (between its "report:begin" and "report:end" markers; the hand-written analysis below them stays)
# and the plots under bench/plots/. Every figure it writes comes with the command that produced it.
#
#   bench/report.sh                          # every part, about 60 minutes on the 2-core development VM
#   PARTS="proxy failover" bench/report.sh   # some parts; the others keep their last generated section
#   RENDER_ONLY=bench/out/report/<time> bench/report.sh   # render an earlier run's outputs again, run nothing
#
# Environment (each passed to the part's own script, see its header):
#   PARTS="proxy failover filestore chaos"
#   PROXY_ROUNDS=5        bench/proxy/run.sh rounds; targets direct, HAProxy, nginx, stock YARP and three gateway builds
#   FAILOVER_RUNS=5       bench/failover/rto.sh runs, for the database and for the whole site
#   FILESTORE_ROUNDS=3    bench/filestore/run.sh rounds of the initial sync (BENCH_ROOT as there)
#   CHAOS_CYCLES=20       bench/chaos/run.sh unplanned failover cycles under load
# Raw outputs: bench/out/report/<UTC time>/ (git-ignored).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=SCRIPTDIR/../deploy/lib/common.sh
source "$REPO_ROOT/deploy/lib/common.sh"

read -r -a PARTS <<<"${PARTS:-proxy failover filestore chaos}"
for part in "${PARTS[@]}"; do
    [[ $part =~ ^(proxy|failover|filestore|chaos)$ ]] || die "unknown part '$part' in PARTS (known: proxy failover filestore chaos)"
done

# run_part NAME COMMAND...: the part's output goes to OUT/NAME.txt, its command line to OUT/NAME.command.
run_part() {
    local name=$1
    shift
    say "report: $name: $*"
    printf '%s\n' "$*" >"$OUT/$name.command"
    local started=$SECONDS
    if ! (cd "$REPO_ROOT" && env "$@") >"$OUT/$name.txt" 2>"$OUT/$name.err"; then
        tail -n 20 "$OUT/$name.err" >&2
        die "report: $name failed after $((SECONDS - started)) s; output in $OUT/$name.txt and $OUT/$name.err"
    fi
    say "report: $name done in $((SECONDS - started)) s"
}

if [[ -n ${RENDER_ONLY:-} ]]; then
    OUT=$(cd "$RENDER_ONLY" && pwd -P)
else
    OUT=$REPO_ROOT/bench/out/report/$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p "$OUT"
    "$REPO_ROOT/deploy/prereqs.sh" python3-matplotlib >/dev/null
    {
        echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "commit: $(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet HEAD -- src || echo ' (with uncommitted changes in src/)')"
        echo "cpus: $(nproc) ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))"
        echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        echo "kernel: $(uname -r)"
        echo "os: Debian $(cat /etc/debian_version)"
        echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$OUT/environment.txt"
    for part in "${PARTS[@]}"; do
        case $part in
            proxy) run_part proxy ROUNDS="${PROXY_ROUNDS:-5}" PERF=0 OUT="$OUT/proxy" \
                TARGETS="direct haproxy nginx stockyarp gateway_bare gateway gateway_traced" bench/proxy/run.sh ;;
            failover)
                run_part failover-database RUNS="${FAILOVER_RUNS:-5}" bench/failover/rto.sh database
                run_part failover-site RUNS="${FAILOVER_RUNS:-5}" TIMELINE_CSV="$OUT/failover-site-timeline.csv" \
                    bench/failover/rto.sh site ;;
            filestore) run_part filestore ROUNDS="${FILESTORE_ROUNDS:-3}" BENCH_ROOT="${BENCH_ROOT:-/var/tmp}" bench/filestore/run.sh ;;
            chaos) run_part chaos CYCLES="${CHAOS_CYCLES:-20}" bench/chaos/run.sh ;;
        esac
    done
fi

# Debian's python3, where python3-matplotlib is installed (a python3 earlier on PATH, e.g. pyenv's, lacks it).
/usr/bin/python3 "$REPO_ROOT/bench/report/render.py" "$OUT" "$REPO_ROOT/bench/RESULTS.md" "$REPO_ROOT/bench/plots"
say "report: bench/RESULTS.md and bench/plots/ rewritten from $OUT"
