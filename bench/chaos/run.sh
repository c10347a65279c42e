#!/usr/bin/env bash
# Repeated unplanned failovers under load in synchronous mode, the long run from one command. Runs the
# end-to-end test RepeatedFailoverTests (tests/Gateway.Tests/EndToEnd/RepeatedFailoverTests.cs) with
# GATEWAY_CHAOS_CYCLES cycles: real PostgreSQL primary + synchronous standby (SynchronousMode Degrade), four real
# broker processes, real SAN directories. Clients deposit (20/s, unique names, random 1 KiB) and read (10/s) through
# the gateway; each cycle kill -9s every process of the active site (both instances and its PostgreSQL), waits for
# the gateway's automatic failover, restarts the dead site and rebuilds it as a replica (POST /admin/failback); the
# next cycle kills the other site (A, B, A, ...). At the end the checker reads both databases and both SANs and
# reports lost / unexpected / duplicated / corrupted (the test fails unless all are 0).
# Prints a markdown block (date, machine, command, per-cycle client-seen RTO, median and max, the checker's line)
# ready to paste into bench/RESULTS.md, and exits non-zero if the build or the test failed (after printing).
#
#   bench/chaos/run.sh                                  # 20 cycles, about 10-15 min on 2 cores
#   GATEWAY_CHAOS_CYCLES=3 bench/chaos/run.sh            # a 2-minute smoke run
#   flock /tmp/heavy.lock bench/chaos/run.sh             # on a shared machine: one heavy job at a time
# Raw test output: bench/out/chaos/<time>.log (git-ignored). Needs root (PostgreSQL runs as the postgres user).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
CYCLES=${GATEWAY_CHAOS_CYCLES:-20}
[[ $CYCLES =~ ^[1-9][0-9]*$ ]] || { echo "GATEWAY_CHAOS_CYCLES must be a positive integer, not '$CYCLES'" >&2; exit 2; }
FILTER="FullyQualifiedName~RepeatedFailoverTests"
# shellcheck source=SCRIPTDIR/../lib/test-bench.sh
source "$REPO_ROOT/bench/lib/test-bench.sh"
bench_start chaos
build_tests

status=passed
GATEWAY_CHAOS_CYCLES=$CYCLES dotnet test tests/Gateway.Tests -c Release --no-build --filter "$FILTER" \
    --logger "console;verbosity=detailed" >"$LOG" 2>&1 || status=FAILED

# The lines the test prints (see RepeatedFailoverTests): one per cycle, then the checker's, the RTO summary, the failures.
cycle_rows=$(sed -nE 's/^ *cycle ([0-9]+): killed site ([AB]) at [0-9.]+ s, failed over to ([AB]) ([0-9]+) ms later; client-seen RTO of cycle [0-9]+: ([0-9]+) ms; [AB] rebuilt as a replica in ([0-9]+) ms.*/| \1 | \2 -> \3 | \4 | \5 | \6 |/p' "$LOG")
consistency=$(grep -oE 'consistency: .*' "$LOG" | tail -1 || true)
rto_summary=$(grep -oE 'client-seen RTO over .*' "$LOG" | tail -1 || true)
reasons=$(grep -oE 'failed requests by reason: .*' "$LOG" | tail -1 || true)
test_error=$(grep -A3 -E '^\s*Error Message:' "$LOG" | head -4 | sed 's/^ *//' || true)

cat <<MARKDOWN
## Repeated unplanned failovers under load, synchronous mode

Command: \`GATEWAY_CHAOS_CYCLES=$CYCLES bench/chaos/run.sh\` (run of $STARTED_AT UTC; $(nproc) cores, kernel $(uname -r);
test \`$FILTER\` $status; raw output \`bench/out/chaos/$STARTED.log\`). Clients: 20 deposits/s (1 KiB, unique names) and
10 reads/s through the gateway's public endpoint; \`Gateway:Database:SynchronousMode\` Degrade; each cycle kill -9 of
both instances and the PostgreSQL of the active site, automatic failover, restart, \`POST /admin/failback\`.

| cycle | failover | failover seen done after (ms) | client-seen RTO (ms) | dead site rebuilt as replica in (ms) |
|--:|---|--:|--:|--:|
${cycle_rows:-| – | no cycle completed | | | |}

${rto_summary:-no RTO summary (the test did not finish)}

Checker: ${consistency:-no checker report (the test did not finish)}

${reasons:+Failed requests by reason: ${reasons#failed requests by reason: }}
MARKDOWN
if [[ $status != passed ]]; then
    printf '\nTest failure:\n%s\n' "$test_error"
    exit 1
fi
