#!/usr/bin/env bash
# PostgreSQL sessions across switchovers (Database:SessionMode Movable), the long runs from one command. Runs tests of
# tests/Gateway.Tests/Database/Sessions/MovableSessionsTests.cs, each against a fresh real primary + standby behind
# the real gateway, sized up by environment variables:
#
#   1. pgbench -c 16 -j 2 -P 1 (simple, extended, prepared in turn) through the write endpoint while the primary
#      switches A -> B -> A ... GATEWAY_PGSESSIONS_SWITCHOVERS times (the old primary rejoins by pg_rewind between
#      two switches). Per switchover: the write pause clients saw (longest time no transaction completed, from
#      pgbench's per-transaction log) and pgbench's per-second progress around it; fails on any aborted client or
#      failed transaction. Then a pooled Npgsql application across as many switchovers (fails on any failed command).
#   2. pgbench at 80 tx/s (most clients idle at any instant) in synchronous Degrade mode while the primary's
#      postmaster is killed: clients aborted, clients that carried on, statements run twice (random tokens), pause.
#   3. Steady-state throughput, paired in one run: pgbench -c 16 -j 2 select-only and tpcb-like against the primary
#      directly, through a PassThrough gateway, through a PassThrough gateway with Database:EndpointScheduling
#      ThreadPool (the endpoint before its sockets completed inline), through the Movable one and through HAProxy in
#      TCP mode (the yardstick of any proxy on these cores), in rotating order, GATEWAY_PGSESSIONS_ROUNDS rounds.
#
# Prints a markdown block for bench/RESULTS.md; raw output in bench/out/pgsessions/<time>.log (git-ignored).
#
#   bench/pgsessions/run.sh                                   # 10 switchovers x 3 protocols, 5 rounds; about 15 min
#   GATEWAY_PGSESSIONS_SWITCHOVERS=2 GATEWAY_PGSESSIONS_ROUNDS=1 bench/pgsessions/run.sh   # a smoke run
#   PARTS="throughput" bench/pgsessions/run.sh                # only some of: switchovers kill throughput
# Needs root (PostgreSQL runs as the postgres user); haproxy from deploy/prereqs.sh for the yardstick.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
export GATEWAY_PGSESSIONS_SWITCHOVERS=${GATEWAY_PGSESSIONS_SWITCHOVERS:-10}
export GATEWAY_PGSESSIONS_SECONDS=${GATEWAY_PGSESSIONS_SECONDS:-$((20 + 6 * GATEWAY_PGSESSIONS_SWITCHOVERS))}
export GATEWAY_PGSESSIONS_ROUNDS=${GATEWAY_PGSESSIONS_ROUNDS:-5}
export GATEWAY_PGSESSIONS_ROUND_SECONDS=${GATEWAY_PGSESSIONS_ROUND_SECONDS:-10}
export GATEWAY_PGSESSIONS_SCALE=${GATEWAY_PGSESSIONS_SCALE:-16}
read -r -a PARTS <<<"${PARTS:-switchovers kill throughput}"
for variable in GATEWAY_PGSESSIONS_SWITCHOVERS GATEWAY_PGSESSIONS_SECONDS GATEWAY_PGSESSIONS_ROUNDS GATEWAY_PGSESSIONS_ROUND_SECONDS GATEWAY_PGSESSIONS_SCALE; do
    [[ ${!variable} =~ ^[1-9][0-9]*$ ]] || { echo "$variable must be a positive integer, not '${!variable}'" >&2; exit 2; }
done
for part in "${PARTS[@]}"; do
    [[ $part =~ ^(switchovers|kill|throughput)$ ]] || { echo "unknown part '$part' (switchovers, kill, throughput)" >&2; exit 2; }
done

# shellcheck source=SCRIPTDIR/../lib/test-bench.sh
source "$REPO_ROOT/bench/lib/test-bench.sh"
bench_start pgsessions
build_tests

status=passed
run_part() {
    local filter
    case $1 in
        switchovers) filter="FullyQualifiedName~MovableSessionsTests.Pgbench_clients_of_each_protocol|FullyQualifiedName~MovableSessionsTests.A_pooled_Npgsql_application" ;;
        kill) filter="FullyQualifiedName~MovableSessionsTests.Pgbench_at_a_modest_rate" ;;
        throughput) filter="FullyQualifiedName~MovableSessionsTests.Pgbench_runs_through_both_modes" ;;
    esac
    # The per-protocol switchover runs and the throughput part are benchmarks (skipped in the test suite, which runs
    # the three protocols at once) until this names them.
    GATEWAY_PGSESSIONS_BENCH=$1 dotnet test tests/Gateway.Tests -c Release --no-build --filter "$filter" --logger "console;verbosity=detailed" >>"$LOG" 2>&1 || status=FAILED
}
for part in "${PARTS[@]}"; do
    run_part "$part"
done

# The lines the tests print (MovableSessionsTests), trimmed of the test runner's indentation.
lines() { grep -E "$1" "$LOG" | sed -E 's/^ +//' || true; }
summaries=$(lines '^ *write pause over ')
npgsql=$(lines '^ *Npgsql pool across ')
switchovers=$(lines '^ *switchover [0-9]+ \(')
kill_line=$(lines '^ *kill -9 of A at ')
throughput=$(lines '^ *endpoint throughput ')
failures=$(grep -A3 -E '^\s*Error Message:' "$LOG" | head -8 | sed 's/^ *//' || true)

cat <<MARKDOWN
## PostgreSQL sessions across switchovers

Command: \`GATEWAY_PGSESSIONS_SWITCHOVERS=$GATEWAY_PGSESSIONS_SWITCHOVERS GATEWAY_PGSESSIONS_SECONDS=$GATEWAY_PGSESSIONS_SECONDS GATEWAY_PGSESSIONS_ROUNDS=$GATEWAY_PGSESSIONS_ROUNDS GATEWAY_PGSESSIONS_ROUND_SECONDS=$GATEWAY_PGSESSIONS_ROUND_SECONDS GATEWAY_PGSESSIONS_SCALE=$GATEWAY_PGSESSIONS_SCALE PARTS="${PARTS[*]}" bench/pgsessions/run.sh\`
(run of $STARTED_AT UTC, commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo ' plus uncommitted changes'); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;
tests $status; raw output \`bench/out/pgsessions/$STARTED.log\`).

Write pause per protocol (pgbench -c 16 -j 2 through the write endpoint, Movable mode, planned switchovers A -> B -> A ...):

\`\`\`
${summaries:-no summary (the switchover runs did not finish)}
\`\`\`

A pooled Npgsql application (12 workers, pool of 6, half the commands prepared) across the same switchovers:

\`\`\`
${npgsql:-no Npgsql run}
\`\`\`

Each switchover (write pause = longest time no transaction completed around it; tps = pgbench -P 1 seconds around it):

\`\`\`
${switchovers:-none}
\`\`\`

kill -9 of the primary (pgbench -c 16 -R 80, synchronous Degrade mode, automatic failover):

\`\`\`
${kill_line:-no kill run}
\`\`\`

Steady-state throughput, paired rounds (median tps; ratio = median of the per-round ratios to direct):

\`\`\`
${throughput:-no throughput run}
\`\`\`
${failures:+
Failures:

\`\`\`
$failures
\`\`\`}
MARKDOWN
[[ $status == passed ]]
