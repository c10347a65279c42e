#!/usr/bin/env bash
# Filestore replication benchmarks (bench/filestore/FilestoreBench, the gateway's replicator used as a library):
#   1. lag: 200 files/s of 64 KiB written to SAN A for 60 s the way the broker writes them (temp file, fsync,
#      rename); lag of each file from its rename on A to its copy's rename into place on B; p50/p90/p99/max.
#   2. initial sync: a tree of 10,000 files (about 1 GiB) copied to an empty directory by the replicator's initial
#      sync and, in the same run, by rsync -a, rsync -a followed by sync, and rsync -a --fsync; page cache dropped
#      before each copy. Done at MaxParallelCopies 4 (the default) and 16.
# Needs root (drop_caches) and rsync (installed through deploy/prereqs.sh). Raw output: bench/out/filestore/<time>/.
# About 10 minutes with the default 3 rounds.
#
#   bench/filestore/run.sh
#   SECONDS_OF_LOAD=10 FILES=1000 BYTES=104857600 bench/filestore/run.sh    # a one-minute smoke test
#   BENCH_ROOT=/mnt/san bench/filestore/run.sh                             # where the SAN directories go (default /var/tmp)
#   ROUNDS=5 SKIP_LAG=1 bench/filestore/run.sh                             # initial sync only, 5 rounds (default 3) each
# Initial sync: each round copies the same tree with the replicator and the three rsync variants; the ratios are
# taken within a round (same machine load) and their median across rounds is printed last.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
OUT=$REPO_ROOT/bench/out/filestore/$(date +%Y%m%d-%H%M%S)
BENCH=$REPO_ROOT/bench/filestore/FilestoreBench/bin/Release/net10.0/FilestoreBench
ROOT_ARGS=(--root "${BENCH_ROOT:-/var/tmp}")
mkdir -p "$OUT"

"$REPO_ROOT/deploy/prereqs.sh" rsync >/dev/null
if ! build_output=$(dotnet build "$REPO_ROOT/bench/filestore/FilestoreBench" -c Release -v quiet -nologo 2>&1); then
    echo "$build_output" | grep -E "error" | sort -u | head -20 >&2
    exit 1
fi

{
    echo "# $(date -Is) $(uname -r), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# file system of ${BENCH_ROOT:-/var/tmp}: $(df -T "${BENCH_ROOT:-/var/tmp}" | awk 'NR == 2 {print $2, $1}'); $(rsync --version | head -1)"
    if [[ -z ${SKIP_LAG:-} ]]; then
        "$BENCH" lag --rate 200 --size 65536 --seconds "${SECONDS_OF_LOAD:-60}" "${ROOT_ARGS[@]}"
    fi
    for parallel in 4 16; do
        "$BENCH" initial-sync --files "${FILES:-10000}" --bytes "${BYTES:-1073741824}" --parallel "$parallel" --rounds "${ROUNDS:-3}" "${ROOT_ARGS[@]}"
    done
} | tee "$OUT/results.txt"
echo "raw results: $OUT/results.txt"
