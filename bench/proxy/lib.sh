# shellcheck shell=bash
# Shared by the scripts that start the proxies of an earlier bench/proxy/run.sh run again (work_per_request.sh,
# paired.sh): the run's backends, as it configured them.

# start_run_backends CONFIG_DIR WORK_DIR: the run's two nginx backends and its OTLP sink, their paths moved under WORK_DIR.
start_run_backends() {
    local config=$1 work=$2 original
    original=$(grep -oE '/tmp/bench-proxy\.[A-Za-z0-9]+' "$config/backends-nginx.conf" | head -n 1)
    mkdir -p "$work"/backends/tmp/{body,proxy,fastcgi,uwsgi,scgi}
    sed "s|$original|$work|g" "$config/backends-nginx.conf" >"$work/nginx.conf"
    nginx -c "$work/nginx.conf"
}

stop_run_backends() { # stop_run_backends WORK_DIR
    [[ ! -f $1/backends/nginx.pid ]] || kill "$(cat "$1/backends/nginx.pid")" 2>/dev/null || true
}
