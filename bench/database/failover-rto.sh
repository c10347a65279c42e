#!/usr/bin/env bash
# Database failover RTO: kill -9 of the primary's postmaster under insert load (synchronous Degrade mode,
# default 500 ms probes, FailoverAfter 1 s) -> first insert acknowledged by the new primary through the
# gateway's write endpoint. Runs the integration test that measures it RUNS times (default 5) and prints
# each figure and the median. Every run starts its own PostgreSQL primary + standby; about 15 s a run.
#
#   bench/database/failover-rto.sh            # 5 runs
#   RUNS=11 bench/database/failover-rto.sh
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
RUNS=${RUNS:-5}
OUT=$REPO_ROOT/bench/out/database
mkdir -p "$OUT"

cd "$REPO_ROOT"
if ! build_output=$(dotnet build tests/Gateway.Tests -c Release -v quiet -nologo 2>&1); then
    echo "$build_output" | grep -E "error" | sort -u | head -20 >&2
    exit 1
fi

figures=()
for ((run = 1; run <= RUNS; run++)); do
    log=$OUT/failover-rto-$run.log
    dotnet test tests/Gateway.Tests -c Release --no-build \
        --filter "FullyQualifiedName~Kill_9_of_the_primary_in_synchronous_mode" \
        --logger "console;verbosity=detailed" >"$log" 2>&1 || { echo "run $run failed: see $log" >&2; exit 1; }
    ms=$(grep -oE 'first insert acknowledged by B through the write endpoint after [0-9]+ ms' "$log" | grep -oE '[0-9]+ ms' | grep -oE '[0-9]+')
    lost=$(grep -c 'acknowledged inserts lost' "$log" || true)
    echo "run $run: kill -9 -> first insert on the new primary: $ms ms (lost-insert failures: $lost)"
    figures+=("$ms")
done

median=$(printf '%s\n' "${figures[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "median of $RUNS runs: $median ms (min $(printf '%s\n' "${figures[@]}" | sort -n | head -1), max $(printf '%s\n' "${figures[@]}" | sort -n | tail -1))"
