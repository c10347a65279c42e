#!/usr/bin/env bash
# Failover RTO, measured by running an integration test RUNS times (default 5) and printing each figure, the median,
# min and max. Every run starts its own PostgreSQL primary + standby (and, for a site, four broker processes).
#
#   bench/failover/rto.sh database   # kill -9 of the primary's postmaster under insert load (synchronous Degrade
#                                    # mode, 500 ms probes, FailoverAfter 1 s) -> first insert acknowledged by the new
#                                    # primary through the write endpoint; about 15 s a run
#   bench/failover/rto.sh site       # kill -9 of every process of site A (both instances and PG A) under deposit
#                                    # load, defaults -> the longest time between two successful deposits across the
#                                    # kill (RTO as clients see it); each run also fails back and switches home; about
#                                    # 1 min a run
#   RUNS=11 bench/failover/rto.sh site
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
KIND=${1:-}
RUNS=${RUNS:-5}
OUT=$REPO_ROOT/bench/out/failover
mkdir -p "$OUT"

case $KIND in
    database) FILTER="FullyQualifiedName~Kill_9_of_the_primary_in_synchronous_mode" ;;
    site) FILTER="FullyQualifiedName~Killing_every_process_of_site_A_under_load" ;;
    *) echo "usage: bench/failover/rto.sh database|site (not '$KIND')" >&2; exit 2 ;;
esac
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer, not '$RUNS'" >&2; exit 2; }

# rto_ms LOG: the run's RTO in milliseconds, from the line the test prints.
rto_ms() {
    case $KIND in
        database)
            grep -oE 'first insert acknowledged by B through the write endpoint after [0-9]+ ms' "$1" | grep -oE '[0-9]+' | tail -1 ;;
        site)
            grep -oE 'longest window without a successful deposit across the kill: [0-9]+ ms' "$1" | grep -oE '[0-9]+' | tail -1 ;;
    esac
}

cd "$REPO_ROOT"
if ! build_output=$(dotnet build tests/Gateway.Tests -c Release -v quiet -nologo 2>&1); then
    echo "$build_output" | grep -E "error" | sort -u | head -20 >&2
    exit 1
fi

figures=()
for ((run = 1; run <= RUNS; run++)); do
    log=$OUT/$KIND-rto-$run.log
    dotnet test tests/Gateway.Tests -c Release --no-build --filter "$FILTER" \
        --logger "console;verbosity=detailed" >"$log" 2>&1 || { echo "run $run failed: see $log" >&2; exit 1; }
    ms=$(rto_ms "$log")
    [[ -n $ms ]] || { echo "run $run: no RTO line in $log" >&2; exit 1; }
    echo "run $run: $KIND failover RTO $ms ms ($(grep -oE '[0-9]+ deposits acknowledged, [0-9]+ failed|[0-9]+ acknowledged inserts lost' "$log" | head -1 || true))"
    figures+=("$ms")
done

sorted=$(printf '%s\n' "${figures[@]}" | sort -n)
median=$(awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}' <<<"$sorted")
echo "$KIND failover RTO, median of $RUNS runs: $median ms (min $(head -1 <<<"$sorted"), max $(tail -1 <<<"$sorted"))"
