#!/usr/bin/env bash
# Follows the README's tour as a newcomer would: every command between "<!-- tour:begin" and "<!-- tour:end -->",
# in order, exactly as printed (only the four gateway ports rewritten, see below), in one shell, from the root of a
# copy of this working tree, and checks that each does what the README says.
#
#   tests/readme-tour.sh           run the tour (as root: the demo runs PostgreSQL as the postgres user)
#   tests/readme-tour.sh --list    print the commands it would run, ports rewritten, and exit
#
# The demo it starts is its own: a copy of the working tree (tracked and untracked files, not ignored ones) under
# a temporary directory, with every port moved off the defaults (public 18080, admin 18081, PG write 16432,
# read 16433, PostgreSQL 15432/15433, instances 15101/15102/15201/15202), so a demo on the default ports may run
# beside it. The README's commands name the default gateway ports; they are rewritten to these.
# Whatever happens, the demo is purged and the copy deleted at the end. Bounded: TOUR_TIMEOUT (default 20m) for
# the whole run, which includes the first build.
set -euo pipefail

if [[ ${1:-} != --list && -z ${TOUR_UNDER_TIMEOUT:-} ]]; then
    # timeout runs the tour in a process group of its own and signals all of it: a hung command ends too, and the
    # EXIT trap below purges the demo.
    TOUR_UNDER_TIMEOUT=1 exec timeout --kill-after=60s "${TOUR_TIMEOUT:-20m}" "$0" "$@"
fi

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
README=$REPO_ROOT/README.md

export DEMO_HTTP_PORT=18080 DEMO_ADMIN_PORT=18081 DEMO_PG_WRITE_PORT=16432 DEMO_PG_READ_PORT=16433
export DEMO_PG_A_PORT=15432 DEMO_PG_B_PORT=15433
export DEMO_A1_PORT=15101 DEMO_A2_PORT=15102 DEMO_B1_PORT=15201 DEMO_B2_PORT=15202
unset DEMO_STATE DEMO_PG_DIR DEMO_SKIP_BUILD GATEWAY_ADMIN_URL GATEWAY_ADMIN_TOKEN GATEWAY_ADMIN_TOKEN_FILE

fail() { printf 'readme-tour: FAILED: %s\n' "$*" >&2; exit 1; }

# The tour's commands, one per line: the lines of its ```sh blocks, comments and blank lines left out.
tour_commands() {
    awk '
        /<!-- tour:begin/ { inside = 1; next }
        /<!-- tour:end -->/ { inside = 0 }
        inside && /^```sh$/ { block = 1; next }
        block && /^```$/ { block = 0; next }
        block && !/^[[:space:]]*(#|$)/ { print }
    ' "$README"
}

# The README names the default gateway ports; the tour's demo has its own.
rewrite_ports() {
    sed -e "s/127\.0\.0\.1:8080\b/127.0.0.1:$DEMO_HTTP_PORT/g" -e "s/127\.0\.0\.1:8081\b/127.0.0.1:$DEMO_ADMIN_PORT/g" \
        -e "s/-p 6432\b/-p $DEMO_PG_WRITE_PORT/g" -e "s/-p 6433\b/-p $DEMO_PG_READ_PORT/g"
}

# ---------------------------------------------------------------------------------------------
# What each command must do. The checks are taken in order: a command containing the text of the next one is
# checked by it; every other command must only succeed. A check left over at the end means the README lost (or
# reordered) a command the tour relies on.
# ---------------------------------------------------------------------------------------------

CHECK_TEXT=()
CHECK_FUNCTION=()
expect() { CHECK_TEXT+=("$1"); CHECK_FUNCTION+=("$2"); }

OUT=""   # the file holding the command's output (stdout and stderr), for the checks
has() { grep -qE -- "$1" "$OUT" || fail "expected /$1/ in the output"; }
count() { local n; n=$(grep -ciE -- "$1" "$OUT" || true); ((n == $2)) || fail "expected $2 line(s) matching /$1/, got $n"; }
json() { jq -e "$1" "$OUT" >/dev/null 2>&1 || fail "expected the JSON output to satisfy: $1"; }

check_up_first()        { has 'all 4 instances Healthy'; has "export PATH=\"$PWD/.demo/bin:"; }
check_path()            { [[ "$(command -v gatewayctl)" == "$PWD/.demo/bin/gatewayctl" ]] || fail "gatewayctl is not .demo/bin/gatewayctl on the PATH"; }
check_receipt()         { json '.id and .name == "hostname"'; }
check_id()              { [[ ${ID:-} =~ ^[0-9a-fA-F-]{8,}$ ]] || fail "ID is not a deposit id: '${ID:-}'"; }
check_metadata()        { json '.name == "os-release"'; }
check_content()         { cmp -s "$OUT" /etc/os-release || fail "the content read back differs from /etc/os-release"; }
check_list()            { json 'type == "array" and length >= 2 and any(.[]; .name == "os-release")'; }
check_write_on_a()      { count '^x-served-by: a[12]' 1; }
check_reads_served()    { count '^x-served-by: [ab][12]' 6; }
check_admin_status()    { json '.activeSite == "A" and .database.primary == "A" and ([.instances[] | select(.health == "Healthy")] | length) == 4'; }
check_gatewayctl()      { has 'active site A'; has '^  write +Forward +A '; }
check_demo_status()     { has '^PostgreSQL files: /'; has '^  pg-a .* primary \(designated\)'; has '^  database write endpoint :[0-9]+: -> site A'; has '^  database read endpoint :[0-9]+: -> site B'; }
check_a1_unhealthy()    { has '"id":"a1","health":"Unhealthy"'; has '"id":"a2","health":"Healthy"'; }
check_writes_on_a2()    { count '^HTTP/1.1 201' 4; count '^x-served-by: a2' 4; }
check_up_again()        { has 'a1 started on'; has 'all 4 instances Healthy'; }
check_primary()         { has '^ f$'; }
check_standby()         { has '^ t$'; }
check_count()           { has '^ +[1-9][0-9]*$'; }
check_switch_to_b()     { has '^switchover to B: succeeded'; }
check_link_b()          { has '/san-b$'; }
check_write_on_b()      { count '^x-served-by: b[12]' 1; }
check_status_after()    { has '^  pg-a .* standby'; has '^  database read endpoint :[0-9]+: -> site A'; }
check_pause()           { has '^pause: '; has 'automatic failover paused until .*: patching site A'; }
check_paused_status()   { has '^automatic failover PAUSED by .*: patching site A'; has '^If you fail over to A now'; }
check_resume()          { has '^resume: '; has 'automatic failover resumed'; }
check_switch_to_a()     { has '^switchover to A: succeeded'; }
check_down()            { has '^stopped; data kept in '; }

expect 'deploy/demo.sh up'                                   check_up_first
expect 'export PATH="$PWD/.demo/bin:$PATH"'                  check_path
expect "-w '\n' -X POST"                                     check_receipt
expect 'ID=$(curl'                                           check_id
expect 'deposits/$ID"'                                       check_metadata
expect 'deposits/$ID/content"'                               check_content
expect 'deposits?limit=10'                                   check_list
expect "name=hostname' | grep -i x-served-by"               check_write_on_a
expect 'for i in 1 2 3 4 5 6'                                check_reads_served
expect '/admin/status | jq .'                                check_admin_status
expect 'gatewayctl status'                                   check_gatewayctl
expect 'deploy/demo.sh status'                               check_demo_status
expect "jq -c '.instances[] | {id, health}'"                 check_a1_unhealthy
expect 'for i in 1 2 3 4;'                                   check_writes_on_a2
expect 'deploy/demo.sh up'                                   check_up_again
expect "-p 6432 -U postgres broker -c 'select pg_is_in_re"  check_primary
expect "-p 6433 -U postgres broker -c 'select pg_is_in_re"  check_standby
expect 'select count(*) from deposits'                       check_count
expect 'gatewayctl switchover --to B'                        check_switch_to_b
expect 'readlink .demo/filestore'                            check_link_b
expect "name=hostname' | grep -i x-served-by"               check_write_on_b
expect 'deposits/$ID"'                                       check_metadata
expect 'deploy/demo.sh status'                               check_status_after
expect 'gatewayctl pause'                                    check_pause
expect 'gatewayctl status'                                   check_paused_status
expect 'gatewayctl resume'                                   check_resume
expect 'gatewayctl switchover --to A'                        check_switch_to_a
expect "-p 6433 -U postgres broker -c 'select pg_is_in_re"  check_standby
expect 'deploy/demo.sh down'                                 check_down

# ---------------------------------------------------------------------------------------------

mapfile -t COMMANDS < <(tour_commands)
((${#COMMANDS[@]} > 0)) || fail "no tour in $README (between '<!-- tour:begin' and '<!-- tour:end -->')"
if [[ ${1:-} == --list ]]; then
    printf '%s\n' "${COMMANDS[@]}" | rewrite_ports
    exit 0
fi
[[ $EUID -eq 0 ]] || fail "run as root (the demo runs PostgreSQL as the postgres user)"
for command in "${COMMANDS[@]}"; do
    if grep -qE '(:|-p )(8080|8081|6432|6433)\b' <<<"$(rewrite_ports <<<"$command")"; then
        fail "a command names a default port this script does not rewrite: $command"
    fi
done
for port in "$DEMO_HTTP_PORT" "$DEMO_ADMIN_PORT" "$DEMO_PG_WRITE_PORT" "$DEMO_PG_READ_PORT" "$DEMO_PG_A_PORT" "$DEMO_PG_B_PORT"; do
    if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
        fail "port $port is in use: another tour, or something else, runs on this machine"
    fi
done

WORK=$(mktemp -d /tmp/gateway-tour.XXXXXX)
TOUR_DIR=$WORK/repo
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -x $TOUR_DIR/deploy/demo.sh ]]; then
        printf 'readme-tour: purging the tour'"'"'s demo ...\n'
        (cd "$TOUR_DIR" && deploy/demo.sh purge >"$WORK/purge.log" 2>&1) || { echo "readme-tour: purge failed:" >&2; cat "$WORK/purge.log" >&2; }
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir -p "$TOUR_DIR"
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do [[ -e $file ]] && printf '%s\0' "$file"; done |
    tar --null -T - -cf -) | tar -xf - -C "$TOUR_DIR"
cd "$TOUR_DIR"
printf 'readme-tour: %d commands from %s, run in %s\n' "${#COMMANDS[@]}" "$README" "$TOUR_DIR"

next=0 number=0
started=$SECONDS
for original in "${COMMANDS[@]}"; do
    number=$((number + 1))
    command=$(rewrite_ports <<<"$original")
    OUT=$WORK/out-$number
    printf '\n[%d/%d +%ds] $ %s\n' "$number" "${#COMMANDS[@]}" "$((SECONDS - started))" "$command"
    # In this shell, as the reader's: variables (ID) and the PATH carry over to the next command.
    set +eu
    eval "$command" >"$OUT" 2>&1
    status=$?
    set -eu
    sed 's/^/    /' "$OUT" | tail -n 40
    ((status == 0)) || fail "command $number exited with $status: $original"
    if ((next < ${#CHECK_TEXT[@]})) && [[ $original == *"${CHECK_TEXT[$next]}"* ]]; then
        "${CHECK_FUNCTION[$next]}"
        printf '    ok: %s\n' "${CHECK_FUNCTION[$next]}"
        next=$((next + 1))
    fi
done
((next == ${#CHECK_TEXT[@]})) ||
    fail "the README's tour has no command, at its place in the order, containing: ${CHECK_TEXT[$next]} (checked by ${CHECK_FUNCTION[$next]})"
printf '\nreadme-tour: all %d commands did what the README says (%d checked in detail), in %d s\n' \
    "${#COMMANDS[@]}" "${#CHECK_TEXT[@]}" "$((SECONDS - started))"
