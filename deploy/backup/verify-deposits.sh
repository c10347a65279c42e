#!/usr/bin/env bash
# Backup:VerifyCommand for the sample service (the broker): checks a restored copy, as the gateway's restore drill
# runs it (PGHOST, PGPORT and PGUSER lead to the throw-away PostgreSQL, GATEWAY_RESTORE_FILES is the restored file
# tree). Passes when every deposit row has its file with the right SHA-256 and no deposit file lacks its row.
#
#   BROKER_DATABASE   the broker's database (default: broker)
#
# Files whose name matches the broker's in-progress pattern (.*.tmp) are writes that never finished: not counted.
set -euo pipefail

database=${BROKER_DATABASE:-broker}
deposits=${GATEWAY_RESTORE_FILES:?GATEWAY_RESTORE_FILES is not set: run by the gateway as Backup:VerifyCommand}/deposits
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "id sha256" per row, and "name sha256" per file, both sorted: a row and its file agree when the lines are equal.
psql -X -q -At -F ' ' -d "$database" -c 'SELECT id, sha256 FROM deposits' | LC_ALL=C sort >"$work/rows"
if [[ -d $deposits ]]; then
    (cd "$deposits" && find . -maxdepth 1 -type f ! -name '.*.tmp' -printf '%f\0' | xargs -0 -r sha256sum) |
        awk '{ print $2, $1 }' | LC_ALL=C sort >"$work/files"
else
    : >"$work/files"
fi

rows=$(wc -l <"$work/rows")
LC_ALL=C comm -23 "$work/rows" "$work/files" >"$work/bad-rows"
LC_ALL=C comm -13 "$work/rows" "$work/files" >"$work/bad-files"
if [[ -s $work/bad-rows || -s $work/bad-files ]]; then
    echo "verify-deposits: $(wc -l <"$work/bad-rows") of $rows row(s) without their file or with another SHA-256; $(wc -l <"$work/bad-files") file(s) without a matching row" >&2
    head -n 5 "$work/bad-rows" | sed 's/^/  row:  /' >&2
    head -n 5 "$work/bad-files" | sed 's/^/  file: /' >&2
    exit 1
fi
echo "verify-deposits: $rows deposit(s), each with its file and the right SHA-256; no file without its row"
