# bench/lib.sh: the process and port helpers bench/compare.sh, bench/idle-memory.sh and bench/soak.sh share.
# Sourced after the script has defined log() (its own prefix and destination); nothing here runs on load.

die() { log "ERROR: $*"; exit 2; }

# PostgreSQL refuses to run as root, and the proxies run beside it: as root, commands run as `postgres`.
as_user() {
    if [[ $EUID == 0 ]]; then
        setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- "$@"
    else
        "$@"
    fi
}
# For daemons: `as_user_exec cmd >log 2>&1 &` execs all the way down, so $! is the daemon's own PID:
# the one cleanup stops and whose /proc/PID/stat gives its CPU time.
as_user_exec() {
    if [[ $EUID == 0 ]]; then
        exec setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- "$@"
    else
        exec "$@"
    fi
}
# For the proxies: as_user_exec in a session of its own, as a service runs (systemd starts each unit in its
# own session; PgBouncer -d and PostgreSQL's backends call setsid too). With the kernel's autogroup scheduling
# (/proc/sys/kernel/sched_autogroup_enabled, on in Debian) CPU is shared between sessions first: a proxy left
# in the script's session shares one share with pgbench and gets descheduled behind PostgreSQL's backends,
# which each have their own (measured: 100 ms-2 s stalls of single queries; docs/benchmarks.md, "Autogroup").
# setsid does not fork here (a background job of a script is no process-group leader), so $! stays the
# daemon's PID; callers check /proc/PID/comm.
as_service_exec() {
    as_user_exec setsid "$@"
}

# shellcheck disable=SC2317 # called from EXIT traps
stop_pid() { # name pid: SIGTERM, then SIGKILL after 10 s
    local name=$1 pid=$2 i
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "$name (pid $pid) did not stop on SIGTERM within 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

# A port is taken if something listens on it, or if any TCP socket uses it as its local port: the default
# ports lie in the kernel's ephemeral range (32768-60999), so a client connection (one of pgbench's -C
# connections, even in TIME-WAIT) can hold one, and PostgreSQL then fails to bind it ("Address already in use").
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    command -v ss >/dev/null && [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]]
}
free_port() { # first port >= $1 that nothing on 127.0.0.1 listens on or uses
    local p=$1
    while port_in_use "$p"; do p=$((p + 1)); done
    echo "$p"
}
