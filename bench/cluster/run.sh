#!/usr/bin/env bash
# Cluster mode, from one command: runs the benchmark tests of tests/Gateway.Tests/Cluster/ClusterBenchmarks.cs
# on the real system (two gateway processes in cluster mode, three etcd members, a PostgreSQL primary + standby, four
# brokers reaching the database through either gateway) and prints a markdown block for bench/RESULTS.md.
#
#   bench/cluster/run.sh failover   # kill -9 of the leading gateway, 10 times, under 100 deposits/s and 20 reads/s
#                                   # through the other gateway: time to the new leader, client-seen write pause;
#                                   # about 4 min
#   bench/cluster/run.sh            # the same (all there is)
#   GATEWAY_CLUSTER_BENCH_KILLS=20 bench/cluster/run.sh failover   # more kills
# Raw test output: bench/out/cluster/<time>.log (git-ignored). Needs root (PostgreSQL runs as the postgres user).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
PART=${1:-all}
case $PART in failover | all) ;; *) echo "usage: bench/cluster/run.sh [failover|all] (not '$PART')" >&2; exit 2 ;; esac
# shellcheck source=SCRIPTDIR/../lib/test-bench.sh
source "$REPO_ROOT/bench/lib/test-bench.sh"
bench_start cluster
deploy/prereqs.sh etcd-server etcd-client >/dev/null
build_tests

status=passed
GATEWAY_CLUSTER_BENCH=$PART dotnet test tests/Gateway.Tests -c Release --no-build --filter "FullyQualifiedName~ClusterBenchmarks" \
    --logger "console;verbosity=detailed" >"$LOG" 2>&1 || status=FAILED
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## Cluster mode: leader failover"
echo
echo "Command: \`bench/cluster/run.sh $PART\` (run of $STARTED_AT UTC; $(nproc) cores, kernel $(uname -r), load average at the end $load;"
echo "$(etcd --version 2>/dev/null | head -1); tests $status; raw output \`bench/out/cluster/$STARTED.log\`)."
echo
echo "kill -9 of the leading gateway under 100 deposits/s (1 KiB) and 20 reads/s through the other gateway's public endpoint;"
echo "LeaseTtl 3 s; the killed gateway restarted and following before the next kill (which kills whichever leads then):"
echo
echo "| kill | killed | new leader after (ms) | client-seen write pause (ms) | acknowledged | failed | lost |"
echo "|--:|:--|--:|--:|--:|--:|--:|"
sed -nE 's/^ *bench failover: kill ([0-9]+): (gw[0-9]) killed, gw[0-9] led after ([0-9]+) ms; write pause ([0-9]+) ms; ([0-9]+) deposits acknowledged, ([0-9]+) failed, ([0-9]+) lost$/| \1 | \2 | \3 | \4 | \5 | \6 | \7 |/p' "$LOG"
echo
grep -oE 'bench failover: [0-9]+ kills: .*' "$LOG" | sed 's/^bench failover: //' || echo "no summary: the failover benchmark did not finish"
echo
grep -oE 'bench failover: kill [0-9]+: failures: .*' "$LOG" | sed 's/^bench failover: /- /' || true
if [[ $status != passed ]]; then
    echo
    grep -A3 -E '^\s*Error Message:' "$LOG" | head -4 | sed 's/^ */    /' || true
    exit 1
fi
