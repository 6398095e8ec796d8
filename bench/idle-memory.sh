#!/usr/bin/env bash
# bench/idle-memory.sh: RSS per idle client connection, Sluice vs PgBouncer (issue #7: 10,000 idle
# clients must cost <= 4 KiB of RSS each over an idle Sluice). For each proxy, in front of the same
# PostgreSQL: start it (transaction pooling, trust auth, max_client_conn >= N), log one client in and out
# (so the pool holds its server connection), read VmRSS from /proc/PID/status ("idle"), open N idle
# clients with bench/idle-clients, read VmRSS again ("with N clients"), report (with - idle) / N in KiB.
# For Sluice a full GC is forced (jcmd PID GC.run) and SETTLE seconds waited before each reading, and
# the heap after that GC (jcmd GC.heap_info) and a class histogram with the N clients connected
# (jmap -histo:live, top 40) are kept.
#
# Usage: bench/idle-memory.sh [-n N] [--targets sluice,pgbouncer] [--keep] [-h]
# Environment:
#   N=10000                   idle clients               JAVA_OPTS=-Xmx256m   Sluice's JVM options
#   SLUICE_JAR=<repo>/target/sluice.jar                  SETTLE=5            seconds before each reading
#   PGBIN=/usr/lib/postgresql/15/bin  PGBOUNCER=/usr/sbin/pgbouncer  JAVA=java
#   UPSTREAM_HOST, UPSTREAM_PORT, UPSTREAM_USER, UPSTREAM_DB: an existing PostgreSQL (trust auth for
#                             that user from 127.0.0.1) instead of a throwaway cluster in a temp dir
#   With -XX:NativeMemoryTracking=summary in JAVA_OPTS, the NMT difference between idle and with the
#   clients is kept too (sluice-nmt-diff.txt).
#   OUT=<dir>                 where the histogram, heap info and logs are copied (default bench/out/idle-memory)
#
# Run as root (it raises `ulimit -n` and runs PostgreSQL, PgBouncer and Sluice as the postgres user via
# setpriv); Debian 12 with postgresql-15 and pgbouncer installed; Python 3 for bench/idle-clients.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-10000}
JAVA_OPTS=${JAVA_OPTS--Xmx256m}
JAVA=${JAVA:-java}
SLUICE_JAR=${SLUICE_JAR:-$REPO/target/sluice.jar}
SETTLE=${SETTLE:-5}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}
OUT=${OUT:-$REPO/bench/out/idle-memory}
TARGETS=sluice,pgbouncer
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n) N=$2; shift ;;
        --targets) TARGETS=$2; shift ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
CMDLINE="N=$N JAVA_OPTS='$JAVA_OPTS' bench/idle-memory.sh --targets $TARGETS"

log() { echo "[idle-memory $(date -u +%H:%M:%S)] $*" >&2; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh" # die, as_user, as_user_exec, stop_pid, port_in_use, free_port

[[ $EUID == 0 ]] || die "run as root (ulimit -n, and the servers run as the postgres user)"
command -v python3 >/dev/null || die "python3 is needed for bench/idle-clients"
[[ ,$TARGETS, != *,sluice,* || -f $SLUICE_JAR ]] || die "$SLUICE_JAR is missing: mvn -B -DskipTests package"
[[ ,$TARGETS, != *,pgbouncer,* || -x $PGBOUNCER ]] || die "$PGBOUNCER is missing: apt-get install pgbouncer"

# Every client costs a descriptor in the proxy and one in bench/idle-clients.
FDS=$((N + 4096))
if [[ $(ulimit -Hn) != unlimited && $(ulimit -Hn) -lt $FDS ]]; then ulimit -Hn "$FDS" || die "cannot raise the hard open-file limit to $FDS"; fi
ulimit -n "$FDS" || die "cannot raise the open-file limit to $FDS"
if [[ $(cat /proc/sys/fs/file-max) -lt $((3 * N)) ]]; then log "WARNING: fs.file-max is $(cat /proc/sys/fs/file-max)"; fi


TMP=$(mktemp -d /tmp/sluice-idle-memory.XXXXXX)
chmod 755 "$TMP"
PG_STARTED=0
PROXY_PID=""
CLIENTS_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    stop_pid idle-clients "$CLIENTS_PID"
    stop_pid proxy "$PROXY_PID"
    if [[ $PG_STARTED == 1 ]]; then as_user "$PGBIN/pg_ctl" -D "$TMP/pgdata" -m fast -w -t 30 stop >/dev/null 2>&1; fi
    if [[ $KEEP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
wait_port() { # name port pid log
    local i
    for ((i = 0; i < 120; i++)); do
        kill -0 "$3" 2>/dev/null || { tail -n 30 "$4" "${4%.log}.stderr" >&2 2>/dev/null; die "$1 exited during startup"; }
        port_in_use "$2" && return 0
        sleep 0.5
    done
    die "$1 does not listen on 127.0.0.1:$2 after 60 s"
}

# --- PostgreSQL: a throwaway cluster, or the one given --------------------------------------------
# The proxies run as postgres and write their logs here, with either kind of upstream.
chown postgres:postgres "$TMP"
if [[ -n "${UPSTREAM_PORT:-}" ]]; then
    PG_HOST=${UPSTREAM_HOST:-127.0.0.1}; PG_PORT=$UPSTREAM_PORT
    DBUSER=${UPSTREAM_USER:-postgres}; DB=${UPSTREAM_DB:-postgres}
    log "using the PostgreSQL at $PG_HOST:$PG_PORT (user $DBUSER, database $DB)"
else
    [[ -x $PGBIN/initdb ]] || die "$PGBIN/initdb is missing: apt-get install postgresql-15"
    PG_HOST=127.0.0.1; PG_PORT=$(free_port 55532); DBUSER=postgres; DB=postgres
    chown postgres:postgres "$TMP"
    as_user "$PGBIN/initdb" -D "$TMP/pgdata" -U postgres -A trust -E UTF8 --no-sync >"$TMP/initdb.log" 2>&1 ||
        { cat "$TMP/initdb.log" >&2; die "initdb failed"; }
    cat >>"$TMP/pgdata/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$TMP'
max_connections = 50
fsync = off
EOF
    as_user "$PGBIN/pg_ctl" -D "$TMP/pgdata" -l "$TMP/postgres.log" -w -t 60 start >/dev/null ||
        { tail -n 20 "$TMP/postgres.log" >&2; die "PostgreSQL did not start"; }
    PG_STARTED=1
    log "PostgreSQL 15 (throwaway cluster) on 127.0.0.1:$PG_PORT"
fi

printf '"%s" ""\n' "$DBUSER" >"$TMP/userlist.txt"
MAXCONN=$((N + 100))
common_settings() { # port
    cat <<EOF
listen_addr = 127.0.0.1
listen_port = $1
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = transaction
default_pool_size = 5
max_client_conn = $MAXCONN
log_connections = 0
log_disconnections = 0
EOF
}

# run_clients port n logfile: runs bench/idle-clients in the background against the port; returns when
# all are logged in (or it gave up on some), with CONNECTED set to how many are.
run_clients() { # port n logfile
    local port=$1 n=$2 out=$3 i line
    python3 "$REPO/bench/idle-clients" --port "$port" --user "$DBUSER" --dbname "$DB" -n "$n" --hold 0 >"$out" 2>&1 &
    CLIENTS_PID=$!
    for ((i = 0; i < 1200; i++)); do
        line=$(grep -E '^idle-clients: (all [0-9]+|[0-9]+ of [0-9]+) connected' "$out" || true)
        if [[ -n $line ]]; then
            CONNECTED=$(sed -E 's/^idle-clients: (all )?([0-9]+).*/\2/' <<<"$line")
            return 0
        fi
        kill -0 "$CLIENTS_PID" 2>/dev/null || { cat "$out" >&2; die "bench/idle-clients exited"; }
        sleep 0.5
    done
    die "bench/idle-clients did not finish logging in within 600 s"
}
stop_clients() {
    stop_pid idle-clients "$CLIENTS_PID"
    wait "$CLIENTS_PID" 2>/dev/null || true
    CLIENTS_PID=""
}
jvm_gc() { # pid: a full GC, then SETTLE seconds
    as_user jcmd "$1" GC.run >/dev/null 2>&1 || log "WARNING: jcmd $1 GC.run failed"
    sleep "$SETTLE"
}
heap_kib() { # pid: "used/committed" heap in KiB after the last GC, from GC.heap_info ("... heap total 96256K, used 39958K")
    as_user jcmd "$1" GC.heap_info 2>/dev/null | grep -m1 -oE 'total [0-9]+K, used [0-9]+K' |
        sed -E 's/total ([0-9]+)K, used ([0-9]+)K/\2\/\1/'
}
nmt_on() { [[ $JAVA_OPTS == *NativeMemoryTracking=* && $JAVA_OPTS != *NativeMemoryTracking=off* ]]; }

mkdir -p "$OUT"
declare -A RESULT
measure() { # name pid port
    local name=$1 pid=$2 port=$3 idle with heap0="" heap1=""
    # One client in and out first: the pool opens its server connection, the proxy's lazy setup is done.
    run_clients "$port" 1 "$TMP/$name-warm.log"; stop_clients; sleep 1
    if [[ $name == sluice ]]; then
        jvm_gc "$pid"; heap0=$(heap_kib "$pid")
        if nmt_on; then as_user jcmd "$pid" VM.native_memory baseline >/dev/null 2>&1 || true; fi
    else
        sleep "$SETTLE"
    fi
    idle=$(rss_kib "$pid")
    log "$name: RSS idle ${idle} KiB${heap0:+ (heap used/committed after GC ${heap0} KiB)}; opening $N idle clients"
    run_clients "$port" "$N" "$TMP/$name-clients.log"
    grep -E '^idle-clients: .*(connected|failed)' "$TMP/$name-clients.log" | tail -n 5 >&2
    [[ $CONNECTED -gt 0 ]] || die "$name: no client could log in (see above)"
    if [[ $name == sluice ]]; then
        jvm_gc "$pid"; heap1=$(heap_kib "$pid")
    else
        sleep "$SETTLE"
    fi
    with=$(rss_kib "$pid")
    if [[ $name == sluice ]]; then
        as_user jcmd "$pid" GC.heap_info >"$OUT/sluice-heap-info.txt" 2>&1 || true
        as_user jmap -histo:live "$pid" 2>/dev/null | head -n 43 >"$OUT/sluice-histo.txt" || true
        if nmt_on; then as_user jcmd "$pid" VM.native_memory summary.diff >"$OUT/sluice-nmt-diff.txt" 2>&1 || true; fi
        with=$(rss_kib "$pid") # after the histogram's GC too
    fi
    local per
    per=$(awk -v a="$idle" -v b="$with" -v n="$CONNECTED" 'BEGIN { printf "%.2f", (b - a) / n }')
    log "$name: RSS with $CONNECTED idle clients ${with} KiB${heap1:+ (heap used/committed after GC ${heap1} KiB)}: ${per} KiB per client"
    RESULT[$name]="$idle|$with|$CONNECTED|$per|$heap0|$heap1"
    stop_clients
}

IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
    port=$(free_port 57532)
    case "$t" in
        sluice)
            # The stats listener (metrics, dashboard) on as by default, on a port that is free.
            { echo "[databases]"; echo "$DB = host=$PG_HOST port=$PG_PORT dbname=$DB"; echo "[sluice]"; common_settings "$port"
              echo "stats_listen = 127.0.0.1:$(free_port 59930)"; } >"$TMP/sluice.ini"
            chown postgres:postgres "$TMP/sluice.ini" "$TMP/userlist.txt"
            cp "$SLUICE_JAR" "$TMP/sluice.jar"; chmod 644 "$TMP/sluice.jar"
            log "starting Sluice ($JAVA_OPTS) on 127.0.0.1:$port, ulimit -n $(ulimit -n)"
            # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
            as_user_exec "$JAVA" $JAVA_OPTS -jar "$TMP/sluice.jar" run "$TMP/sluice.ini" >"$TMP/sluice.log" 2>&1 &
            PROXY_PID=$!
            ;;
        pgbouncer)
            { echo "[databases]"; echo "$DB = host=$PG_HOST port=$PG_PORT dbname=$DB"; echo "[pgbouncer]"; common_settings "$port"
              echo "unix_socket_dir ="; echo "logfile = $TMP/pgbouncer.log"; echo "pidfile = $TMP/pgbouncer.pid"; } >"$TMP/pgbouncer.ini"
            chown postgres:postgres "$TMP/pgbouncer.ini" "$TMP/userlist.txt"
            log "starting PgBouncer on 127.0.0.1:$port, ulimit -n $(ulimit -n)"
            as_user_exec "$PGBOUNCER" "$TMP/pgbouncer.ini" >"$TMP/pgbouncer.stderr" 2>&1 &
            PROXY_PID=$!
            ;;
        *) die "unknown target $t (sluice, pgbouncer)" ;;
    esac
    wait_port "$t" "$port" "$PROXY_PID" "$TMP/$t.log"
    measure "$t" "$PROXY_PID" "$port"
    stop_pid proxy "$PROXY_PID"; PROXY_PID=""
    cp "$TMP/$t"*.log "$OUT/" 2>/dev/null || true
done

# --- Report ------------------------------------------------------------------------------------------
echo
echo "Idle clients: RSS of the proxy process (VmRSS), idle and with N idle clients logged in"
printf '%-10s | %-14s | %9s | %8s | %14s | %13s | %s\n' proxy "heap settings" "RSS idle" clients "RSS w/ clients" "KiB per client" "Sluice heap used/committed after a full GC, idle -> with clients"
for t in "${TARGET_LIST[@]}"; do
    IFS='|' read -r idle with n per h0 h1 <<<"${RESULT[$t]}"
    opts="n/a"; heap="n/a"
    if [[ $t == sluice ]]; then opts=${JAVA_OPTS:-default}; heap="${h0} -> ${h1} KiB ($(awk -v a="${h0%%/*}" -v b="${h1%%/*}" -v n="$n" 'BEGIN { if (a != "" && b != "") printf "%.2f", (b - a) / n; else print "?" }') KiB used per client)"; fi
    printf '%-10s | %-14s | %6s KiB | %8s | %10s KiB | %13s | %s\n' "$t" "$opts" "$idle" "$n" "$with" "$per" "$heap"
done
echo
echo "command: $CMDLINE; $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$($JAVA -version 2>&1 | head -n 1); $($PGBOUNCER --version 2>&1 | head -n 1)"
[[ ,$TARGETS, != *,sluice,* ]] || echo "Sluice heap histogram with the clients connected: $OUT/sluice-histo.txt (heap: sluice-heap-info.txt)"
