#!/usr/bin/env bash
# Installs what the demo and the tests need on Debian 12, only what is missing. Safe to run again.
#
#   deploy/prereqs.sh                      # PostgreSQL server, curl, jq, procps, pgbackrest, restic
#   deploy/prereqs.sh prometheus haproxy   # ... plus these Debian packages
#
# Needs root (or sudo) only when something has to be installed. Never asks a question.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=no

package_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n DEBIAN_FRONTEND=noninteractive "$@"
    else
        die "installing packages needs root: run this script as root (or install sudo)"
    fi
}

apt_update_once() {
    if [[ $APT_UPDATED == no ]]; then
        say "prereqs: apt-get update"
        as_root apt-get update -qq </dev/null
        APT_UPDATED=yes
    fi
}

apt_install() {
    apt_update_once
    say "prereqs: installing $*"
    as_root apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
}

package_available() {
    apt_update_once
    apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'
}

# The demo and the test fixtures run their own PostgreSQL clusters on their own ports. Debian's
# server package would also create and start a system cluster on port 5432 (listening on ::1 too),
# which nothing here uses: switch that off before installing the server, then install it.
ensure_postgresql_server() {
    if find_pg_bin >/dev/null 2>&1; then
        return
    fi
    if ! package_installed postgresql-common; then
        apt_install postgresql-common
    fi
    local conf=/etc/postgresql-common/createcluster.conf
    if [[ -f $conf ]] && ! grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' "$conf"; then
        say "prereqs: telling postgresql-common not to create a system cluster ($conf)"
        as_root sed -i -E 's/^[#[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$conf"
        grep -Eq '^create_main_cluster = false' "$conf" || as_root sh -c "echo 'create_main_cluster = false' >> '$conf'"
    fi
    if package_available postgresql-15; then
        apt_install postgresql-15
    else
        apt_install postgresql
    fi
    find_pg_bin >/dev/null 2>&1 || die "PostgreSQL was installed but no server binaries are under /usr/lib/postgresql/*/bin"
}

ensure_commands() {
    # command -> Debian package that provides it (pgbackrest and restic: the gateway's backup engines)
    local -A provider=([curl]=curl [jq]=jq [runuser]=util-linux [setsid]=util-linux [ps]=procps [timeout]=coreutils
        [pgbackrest]=pgbackrest [restic]=restic)
    local missing=() cmd
    for cmd in "${!provider[@]}"; do
        if ! command -v "$cmd" >/dev/null 2>&1; then
            missing+=("${provider[$cmd]}")
        fi
    done
    if ((${#missing[@]})); then
        # shellcheck disable=SC2046
        apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
    fi
}

ensure_extra_packages() {
    local wanted=() pkg
    for pkg in "$@"; do
        package_installed "$pkg" || wanted+=("$pkg")
    done
    if ((${#wanted[@]})); then
        apt_install "${wanted[@]}"
    fi
}

check_dotnet() {
    if ! command -v dotnet >/dev/null 2>&1; then
        die "the .NET SDK is not installed (no 'dotnet' on PATH). Install the .NET 10 SDK, then run this again."
    fi
    if ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
        warn "no .NET 10 SDK found by 'dotnet --list-sdks'; the build needs one (see global.json)"
    fi
}

main() {
    check_dotnet
    ensure_commands
    ensure_postgresql_server
    ensure_extra_packages "$@"
    say "prereqs: ok (PostgreSQL binaries in $(find_pg_bin))"
}

main "$@"
