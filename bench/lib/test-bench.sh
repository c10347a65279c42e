# Shared start of the benchmarks that run sized-up tests of tests/Gateway.Tests (backup, chaos, cluster, pgsessions).
# Source it after setting REPO_ROOT.

# bench_start NAME: sets STARTED, STARTED_AT, OUT (bench/out/NAME) and LOG (OUT/STARTED.log), makes OUT, enters the repo.
bench_start() {
    STARTED=$(date -u +%Y%m%dT%H%M%SZ)
    STARTED_AT=$(date -u '+%Y-%m-%d %H:%M')
    OUT=$REPO_ROOT/bench/out/$1
    LOG=$OUT/$STARTED.log
    mkdir -p "$OUT"
    cd "$REPO_ROOT"
}

# build_tests: builds the test project, or exits 1 showing only its error lines.
build_tests() {
    local build_output
    if ! build_output=$(dotnet build tests/Gateway.Tests -c Release -v quiet -nologo 2>&1); then
        echo "$build_output" | grep -E "error" | sort -u | head -20 >&2
        exit 1
    fi
}
