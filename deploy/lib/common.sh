# shellcheck shell=bash
# Small helpers shared by the deploy and test scripts. Source it; it defines functions only.

say()  { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# The repository root, whatever the caller's working directory.
repo_root() {
    (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
}

# Which PostgreSQL server binaries to use: PG_BIN if set, else Debian's 15, else the newest installed.
find_pg_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        printf '%s\n' "$PG_BIN"
        return
    fi
    if [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin
        return
    fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n "$newest" && -x "$newest/pg_ctl" ]] || return 1
    printf '%s\n' "$newest"
}

# Random hex of N bytes, from the kernel's generator, never echoed anywhere but stdout.
random_hex() {
    od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}
