#!/usr/bin/env bash
# Backups, from one command: runs the benchmark tests of tests/Gateway.Tests/Backup/BackupBenchmarks.cs on
# the real system (PostgreSQL primary + standby with WAL archiving, SAN A and B, the gateway as a process, one broker
# per site, pgBackRest and restic) and prints a markdown block for bench/RESULTS.md.
#
#   bench/backup/run.sh hold   # 10 backups in a row under 100 deposits/s (and 20 reads/s): failed requests, and the
#                              # write hold of each cut, its median and max; about 3 min
#   bench/backup/run.sh size   # a 1 GiB database and 10,000 files (1 GiB) backed up by the gateway against
#                              # pg_basebackup (from the standby) + rsync -a (of the replica SAN) in the same run, twice
#                              # (the second time after 1 % of the rows and 100 files changed); about 10-20 min
#   bench/backup/run.sh        # both
#   GATEWAY_BACKUP_BENCH_BACKUPS=20 GATEWAY_BACKUP_BENCH_ROWS=100000 bench/backup/run.sh ...   # other sizes
# Raw test output: bench/out/backup/<time>.log (git-ignored). Needs root (PostgreSQL runs as the postgres user).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
PART=${1:-all}
case $PART in hold | size | all) ;; *) echo "usage: bench/backup/run.sh [hold|size|all] (not '$PART')" >&2; exit 2 ;; esac
# shellcheck source=SCRIPTDIR/../lib/test-bench.sh
source "$REPO_ROOT/bench/lib/test-bench.sh"
bench_start backup
# rsync: the baseline of the size benchmark.
deploy/prereqs.sh rsync >/dev/null
build_tests

status=passed
GATEWAY_BACKUP_BENCH=$PART dotnet test tests/Gateway.Tests -c Release --no-build --filter "FullyQualifiedName~BackupBenchmarks" \
    --logger "console;verbosity=detailed" >"$LOG" 2>&1 || status=FAILED
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## Backups"
echo
echo "Command: \`bench/backup/run.sh $PART\` (run of $STARTED_AT UTC; $(nproc) cores, kernel $(uname -r), load average at the end $load;"
echo "$(pgbackrest version), $(restic version | cut -d' ' -f1-2), $(rsync --version | head -1 | cut -d' ' -f1-4); tests $status; raw output \`bench/out/backup/$STARTED.log\`)."
if [[ $PART != size ]]; then
    echo
    echo "Ten backups in a row under 100 deposits/s (1 KiB) and 20 reads/s through the public endpoint, \`Backup:MaxHold\` 1 s:"
    echo
    echo "| backup | write hold (ms) | drain (ms) | replica catch-up (ms) | link-tree refresh (ms) | files | backup took (s) |"
    echo "|--:|--:|--:|--:|--:|--:|--:|"
    sed -nE 's/^ *bench hold: backup ([0-9]+): hold ([0-9.]+) ms \(drain ([0-9.]+), catch-up ([0-9.]+), snapshot ([0-9.]+)\); ([0-9]+) files; backup ([0-9.]+) s$/| \1 | \2 | \3 | \4 | \5 | \6 | \7 |/p' "$LOG"
    echo
    grep -oE 'bench hold: [0-9]+ backups: .*' "$LOG" | sed 's/^bench hold: //' || echo "no summary: the hold benchmark did not finish"
fi
if [[ $PART != hold ]]; then
    echo
    echo "A 1 GiB database and 10,000 files of 100 KiB (random) on the replica SAN, backed up by the gateway (pgBackRest"
    echo "full from the standby, zst, process-max 2; the cut; restic of the link tree) against \`pg_basebackup -X stream -c fast\`"
    echo "from the standby plus \`rsync -a\` of the replica SAN, one after the other in the same run; round 2 after 1 % of"
    echo "the rows and 100 new files:"
    echo
    grep -oE 'bench size: setup .*' "$LOG" | sed 's/^bench size: //' || true
    echo
    grep -oE 'bench size: round [0-9]+: .*' "$LOG" | sed 's/^bench size: /- /' || echo "no round: the size benchmark did not finish"
fi
if [[ $status != passed ]]; then
    echo
    grep -A3 -E '^\s*Error Message:' "$LOG" | head -4 | sed 's/^ */    /' || true
    exit 1
fi
