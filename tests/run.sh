#!/usr/bin/env bash
# Runs every test of the solution: unit, and integration against real PostgreSQL and broker processes.
#
#   tests/run.sh                         # all tests (what .ci/run runs)
#   tests/run.sh --fast                  # unit tests only, under a minute: see below
#   tests/run.sh --filter 'FullyQualifiedName~Config'   # extra arguments go to 'dotnet test'
#   tests/run.sh --fast --filter 'FullyQualifiedName~Routing'   # both filters apply
#
# --fast leaves out the tests marked [Integration] (trait Kind=Integration: they need PostgreSQL, a broker or gateway
# process, a real listener, Prometheus, etcd, a network namespace or a mount) and installs nothing. It sets
# GATEWAY_TESTS_FAST=1, under which every test fixture that would start a real part fails the test instead, naming
# the mark it lacks: a new real-part test cannot slip into the fast set (tests/Gateway.Testing/RealParts.cs).
#
# Installs what the tests need first (deploy/prereqs.sh), except with --fast. Exits with dotnet test's status.
# Results: TRX files in $TEST_RESULTS_DIR (default <repo>/TestResults/run, emptied first).
# Bounded: a test that hangs is killed after $TEST_HANG_TIMEOUT (default 10m), the whole run after
# $TEST_TIMEOUT (default 45m).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RESULTS_DIR=${TEST_RESULTS_DIR:-$REPO_ROOT/TestResults/run}

install_prerequisites() {
    # prometheus: the observability tests run a real Prometheus and promtool.
    # iproute2: the partition tests put each site in a network namespace (`ip netns`, veth, `ip rule`).
    # etcd-server, etcd-client: the cluster tests run a real etcd cluster (tests/Gateway.Testing/EtcdCluster.cs).
    # bindfs: a FUSE mount whose daemon a test stops, the nearest real hung SAN mount (EndToEnd/OperatorControlTests.cs).
    "$REPO_ROOT/deploy/prereqs.sh" prometheus iproute2 etcd-server etcd-client bindfs
}

prepare_results_dir() {
    mkdir -p "$RESULTS_DIR"
    find "$RESULTS_DIR" -mindepth 1 -maxdepth 1 -name '*.trx' -delete
}

run_tests() {
    cd "$REPO_ROOT"
    local status=0
    DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
        timeout --kill-after=30s "${TEST_TIMEOUT:-45m}" \
        dotnet test Gateway.sln -c Release --disable-build-servers \
        --blame-hang-timeout "${TEST_HANG_TIMEOUT:-10m}" --blame-hang-dump-type none \
        --logger "console;verbosity=normal" --logger trx --results-directory "$RESULTS_DIR" \
        "$@" </dev/null || status=$?
    if ((status == 124)); then
        echo "tests/run.sh: the test run exceeded ${TEST_TIMEOUT:-45m} and was stopped" >&2
    fi
    return "$status"
}

# The arguments for 'dotnet test' once --fast is taken out; with --fast, the fast run's filter joined to any given.
# Whatever follows '--' (RunSettings) stays last.
FAST=0
TEST_ARGUMENTS=()
parse_arguments() {
    local filter="" run_settings=()
    while (($#)); do
        case $1 in
            --fast) FAST=1 ;;
            --filter) filter=${2:?--filter needs an expression}; shift ;;
            --filter=*) filter=${1#--filter=} ;;
            --) run_settings=("$@"); break ;;
            *) TEST_ARGUMENTS+=("$1") ;;
        esac
        shift
    done
    if ((FAST)); then
        filter="Kind!=Integration${filter:+&($filter)}"
    fi
    if [[ -n $filter ]]; then
        TEST_ARGUMENTS+=(--filter "$filter")
    fi
    TEST_ARGUMENTS+=(${run_settings[@]+"${run_settings[@]}"})
}

parse_arguments "$@"
if ((FAST)); then
    export GATEWAY_TESTS_FAST=1
else
    unset GATEWAY_TESTS_FAST # the whole suite starts real parts, whatever the caller's shell says
    install_prerequisites
fi
prepare_results_dir
run_tests ${TEST_ARGUMENTS[@]+"${TEST_ARGUMENTS[@]}"}
