#!/usr/bin/env bash
# Installs what the demo and the tests need on Debian 12, only what is missing. Safe to run again.
#
#   deploy/prereqs.sh                      # PostgreSQL server, curl, jq, procps, pgbackrest, restic
#   deploy/prereqs.sh prometheus haproxy   # ... plus these Debian packages
#   deploy/prereqs.sh etcd-server etcd-client   # etcd for cluster mode, with Debian's own etcd service kept off
#   deploy/prereqs.sh keepalived                # the VRRP daemon of deploy/keepalived/ (one address in front of two gateways)
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
        if [[ $pkg == etcd-server ]]; then
            ensure_etcd_server
        else
            package_installed "$pkg" || wanted+=("$pkg")
        fi
    done
    if ((${#wanted[@]})); then
        apt_install "${wanted[@]}"
    fi
}

# The demo and the test fixtures run their own etcd members, each on its own ports and data directory. Debian's
# etcd-server package would also enable and start a system member on 2379/2380 with /var/lib/etcd, which a
# project member could then join or collide with: keep it from starting during the install, then disable and stop it.
ensure_etcd_server() {
    if ! package_installed etcd-server; then
        local policy=/usr/sbin/policy-rc.d placed_policy=no
        if [[ ! -e $policy ]]; then
            # invoke-rc.d asks this script whether it may start a service: 101 = not allowed.
            as_root sh -c "printf '#!/bin/sh\\nexit 101\\n' > '$policy' && chmod 755 '$policy'"
            placed_policy=yes
        fi
        if [[ -d /run/systemd/system ]]; then
            as_root systemctl mask etcd.service >/dev/null 2>&1 || true
        fi
        local status=0
        apt_install etcd-server || status=$?
        if [[ $placed_policy == yes ]]; then
            as_root rm -f "$policy"
        fi
        ((status == 0)) || die "installing etcd-server failed"
    fi
    disable_system_etcd
}

disable_system_etcd() {
    if [[ -d /run/systemd/system ]]; then
        as_root systemctl disable --now etcd.service >/dev/null 2>&1 || true
        as_root systemctl mask etcd.service >/dev/null 2>&1 || true
    fi
    if [[ -x /etc/init.d/etcd ]]; then
        as_root update-rc.d etcd disable >/dev/null 2>&1 || true
        # The init script's member runs as the etcd user; the project's own run as whoever started them.
        if pgrep -u etcd -x etcd >/dev/null 2>&1; then
            say "prereqs: stopping Debian's system etcd service (the project runs its own members)"
            as_root /etc/init.d/etcd stop >/dev/null 2>&1 || warn "could not stop Debian's etcd service (/etc/init.d/etcd stop)"
        fi
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
