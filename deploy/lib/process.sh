# shellcheck shell=bash
# Background processes of the demo: started detached with a PID file and a log, recognised later
# by PID file + live process + expected command line, stopped by that PID only.
# Expects demo.sh's settings (RUN_DIR, LOG_DIR).

pid_file() { printf '%s/%s.pid\n' "$RUN_DIR" "$1"; }
log_file() { printf '%s/%s.log\n' "$LOG_DIR" "$1"; }

# The command line of a live process, arguments separated by spaces; empty if there is none.
process_cmdline() {
    [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# process_matches PID WORD... : the process is alive and its command line contains every WORD.
process_matches() {
    local pid=$1 cmdline word
    shift
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$(process_cmdline "$pid")
    [[ -n $cmdline ]] || return 1
    for word in "$@"; do
        [[ " $cmdline " == *" $word "* ]] || return 1
    done
}

# The PID recorded for a component, or nothing.
recorded_pid() {
    local file
    file=$(pid_file "$1")
    [[ -f $file ]] && tr -dc '0-9' <"$file" || true
}

# component_running NAME WORD... : its PID file names a live process with the expected command line.
component_running() {
    local name=$1
    shift
    process_matches "$(recorded_pid "$name")" "$@"
}

# Something accepts TCP connections on 127.0.0.1:PORT?
port_in_use() {
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
port_free() { ! port_in_use "$1"; }

# launch NAME COMMAND... : starts COMMAND in its own session (no terminal, survives this script),
# stdout+stderr appended to the component's log; the process writes its own PID before exec'ing
# COMMAND, so the PID file holds the PID of COMMAND itself. The caller's environment is inherited.
launch() {
    local name=$1 pidfile log
    shift
    pidfile=$(pid_file "$name")
    log=$(log_file "$name")
    rm -f "$pidfile"
    printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$name" >>"$log"
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
    local waited=0
    until [[ -s $pidfile ]]; do
        sleep 0.1
        ((++waited < 50)) || die "$name did not start (no PID file after 5 s); read $log"
    done
}

# stop_component NAME WORD... : SIGTERM to the recorded PID if it is still the expected process,
# up to 10 s to exit, then SIGKILL. The PID file is removed in every case.
stop_component() {
    local name=$1 pid
    shift
    pid=$(recorded_pid "$name")
    if [[ -z $pid ]]; then
        return
    fi
    if process_matches "$pid" "$@"; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do
            process_matches "$pid" "$@" || break
            sleep 0.1
        done
        if process_matches "$pid" "$@"; then
            warn "$name (pid $pid) did not exit within 10 s of SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                process_matches "$pid" "$@" || break
                sleep 0.1
            done
        fi
        say "  stopped $name (pid $pid)"
    else
        say "  $name was not running (stale PID file)"
    fi
    rm -f "$(pid_file "$name")"
}
