#!/usr/bin/env bash
# bench/soak.sh: a long run of mixed load through Sluice with faults injected, watching that nothing
# Sluice holds (heap after GC, RSS, file descriptors, threads, server connections) grows without bound.
#
# What runs, on a private throwaway PostgreSQL 15 cluster (Debian's postgresql-15, run as `postgres`)
# with Sluice (target/sluice.jar, run as the invoking user so jcmd/jstat can attach) in front of it,
# transaction pooling, everything on 127.0.0.1:
#   load   three streams of real libpq clients (pgbench), each restarted in chunks of 5-20 s:
#          mixed   6 clients, extended protocol: tpcb-like, select-only, a transaction with SET LOCAL
#                  and pg_sleep, and a script leaving session state (SET, LISTEN, advisory lock/unlock)
#          prep    3 clients, -M prepared (protocol-level named statements in transaction mode)
#          churn   2 clients, -C: a new connection for every transaction
#   faults random client kills: every 3-10 s a running pgbench of the mixed or prep stream gets SIGKILL
#          (all its connections close at whatever point they were); RELOAD on the admin console at 40%
#          of the run (default_pool_size raised by 2 in the file first); PostgreSQL restarted
#          (pg_ctl restart -m fast) at 60%.
#   record every SAMPLE seconds, to $OUT/soak.csv: heap used after a full GC (jcmd GC.run, then jstat),
#          RSS and threads (/proc/PID/status), open file descriptors (/proc/PID/fd), Sluice's clients
#          and server connections (SHOW POOLS), PostgreSQL's backends of the database (pg_stat_activity).
#
# Verdict (exit 0 pass, 1 fail, 2 could not run): compares the median of the first third of the samples
# with the median of the last third: heap after GC may grow by at most 25% + 8 MB, RSS by 25% + 48 MB,
# file descriptors by 25% + 16, threads by 10% + 4 (the JVM starts compiler threads on demand); server connections never above the pool's limit;
# at the end no client waiting, no server leased and no backend left in a transaction; Sluice alive; and
# no pgbench run failed except those we killed or that overlapped the PostgreSQL restart.
#
# Usage: bench/soak.sh [--keep] [-h]
# Environment: DURATION=1800 (seconds; DURATION=120 is a quick check)  SAMPLE=10  POOL=8  SCALE=5
#              PG_PORT=55532 SLUICE_PORT=57532 (next free port if taken)  SLUICE_JAR=<repo>/target/sluice.jar
#              JAVA_OPTS (default -Xmx256m)  OUT=/tmp/sluice-soak-<stamp> (kept: CSV, logs, summary)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-1800}
SAMPLE=${SAMPLE:-10}
POOL=${POOL:-8}
SCALE=${SCALE:-5}
PG_PORT=${PG_PORT:-55532}
SLUICE_PORT=${SLUICE_PORT:-57532}
SLUICE_JAR=${SLUICE_JAR:-$REPO/target/sluice.jar}
JAVA_OPTS=${JAVA_OPTS:--Xmx256m}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-/tmp/sluice-soak-$STAMP}
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep) KEEP=1 ;;
        -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "soak.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
for v in DURATION SAMPLE POOL SCALE PG_PORT SLUICE_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "soak.sh: $v must be a number, got '${!v}'" >&2; exit 2; }
done
((DURATION >= 60)) || { echo "soak.sh: DURATION must be at least 60 seconds" >&2; exit 2; }

PGBIN=/usr/lib/postgresql/15/bin
DB=soak
log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$OUT/soak.log" >&2; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh" # die, as_user, stop_pid, port_in_use, free_port
mkdir -p "$OUT/pids"

# ---- prerequisites ----
if [[ ! -x $PGBIN/postgres || ! -x $PGBIN/pgbench ]]; then
    [[ $EUID == 0 ]] || die "postgresql-15 is missing; install it (apt-get install postgresql-15)"
    log "apt-get install postgresql-15"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15 >/dev/null
fi
for c in java jcmd jstat; do command -v $c >/dev/null || die "$c not found (a JDK 17 is needed)"; done
[[ -f $SLUICE_JAR ]] || die "$SLUICE_JAR is missing; build it with: mvn -B -DskipTests package"

PG_PORT=$(free_port "$PG_PORT")
SLUICE_PORT=$(free_port "$SLUICE_PORT")
[[ $SLUICE_PORT == "$PG_PORT" ]] && SLUICE_PORT=$(free_port $((PG_PORT + 1)))

PGDATA_DIR=$(mktemp -d /tmp/sluice-soak-pg.XXXXXX)
chmod 755 "$PGDATA_DIR"
[[ $EUID == 0 ]] && chown postgres:postgres "$PGDATA_DIR"
SLUICE_PID=""
LOAD_PIDS=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    touch "$OUT/stop"
    for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for f in "$OUT"/pids/*; do [[ -f $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null; done
    [[ -n $SLUICE_PID ]] && kill "$SLUICE_PID" 2>/dev/null && wait "$SLUICE_PID" 2>/dev/null
    as_user "$PGBIN/pg_ctl" -D "$PGDATA_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$PGDATA_DIR"
    [[ $KEEP == 1 ]] || rm -f "$OUT"/pgbench-*.log
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- PostgreSQL ----
log "output in $OUT; PostgreSQL on 127.0.0.1:$PG_PORT, Sluice on 127.0.0.1:$SLUICE_PORT; duration ${DURATION}s"
as_user "$PGBIN/initdb" -D "$PGDATA_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$OUT/initdb.log" 2>&1 ||
    die "initdb failed (see $OUT/initdb.log)"
cat >>"$PGDATA_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA_DIR'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
pg_ctl_() { as_user "$PGBIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/postgres.log" -w -t 60 "$@" >/dev/null; }
pg_ctl_ start || die "PostgreSQL did not start"
psql_pg() { PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atq "$@"; }
psql_pg -d postgres -c "CREATE DATABASE $DB" >/dev/null
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB" >"$OUT/pgbench-init.log" 2>&1 ||
    die "pgbench -i failed"

# ---- Sluice ----
write_ini() { # pool size
    cat >"$OUT/sluice.ini" <<EOF
[databases]
$DB = host=127.0.0.1 port=$PG_PORT dbname=$DB

[sluice]
listen_addr = 127.0.0.1
listen_port = $SLUICE_PORT
auth_type = trust
admin_users = postgres
pool_mode = transaction
default_pool_size = $1
max_client_conn = 500
max_prepared_statements = 100
server_login_retry = 1
query_wait_timeout = 30
log_connections = 1
log_disconnections = 1
stats_listen = off
EOF
}
write_ini "$POOL"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
java $JAVA_OPTS -jar "$SLUICE_JAR" run "$OUT/sluice.ini" >"$OUT/sluice.log" 2>&1 &
SLUICE_PID=$!
for ((i = 0; i < 60; i++)); do
    kill -0 "$SLUICE_PID" 2>/dev/null || die "Sluice exited during startup (see $OUT/sluice.log)"
    port_in_use "$SLUICE_PORT" && break
    sleep 0.5
done
console() { PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -h 127.0.0.1 -p "$SLUICE_PORT" -U postgres -d pgbouncer -Atq -F, -c "$1"; }

# ---- load ----
cat >"$OUT/txn_sleep.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
BEGIN;
SET LOCAL work_mem = '8MB';
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SELECT pg_sleep(0.01);
END;
EOF
cat >"$OUT/session_state.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
SET statement_timeout = '5s';
LISTEN soak;
SELECT pg_advisory_lock(:aid);
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SELECT pg_advisory_unlock(:aid);
EOF
START=$(date +%s)
END=$((START + DURATION))
RESTART_AT=$((START + DURATION * 6 / 10))
RELOAD_AT=$((START + DURATION * 4 / 10))

# One stream: pgbench runs of 5-20 s, one after another until the end; each run's outcome goes to
# $OUT/runs.csv (stream, start, end, exit status) and its output to pgbench-<stream>-<n>.log.
stream() { # name pgbench-args...
    local name=$1 n=0 t0 t1 rc
    shift
    while [[ ! -e $OUT/stop ]] && (($(date +%s) < END - 5)); do
        n=$((n + 1))
        t0=$(date +%s)
        rc=0
        "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$SLUICE_PORT" -U postgres -T $((5 + RANDOM % 16)) "$@" "$DB" \
            >"$OUT/pgbench-$name-$n.log" 2>&1 &
        echo $! >"$OUT/pids/$name"
        wait $! || rc=$?
        rm -f "$OUT/pids/$name"
        t1=$(date +%s)
        echo "$name,$t0,$t1,$rc,$n" >>"$OUT/runs.csv"
    done
}
echo "stream,start,end,rc,n" >"$OUT/runs.csv"
stream mixed -c 6 -j 1 -R 150 -M extended -b tpcb-like@4 -b select-only@4 -f "$OUT/txn_sleep.sql@2" \
    -f "$OUT/session_state.sql@1" 2>>"$OUT/streams.err" &
LOAD_PIDS+=($!)
stream prep -c 3 -j 1 -R 100 -M prepared -b select-only@3 -b tpcb-like@1 2>>"$OUT/streams.err" &
LOAD_PIDS+=($!)
stream churn -c 2 -j 1 -R 20 -C -b select-only 2>>"$OUT/streams.err" &
LOAD_PIDS+=($!)

# Random client kills: SIGKILL to one running pgbench of the mixed or prep streams.
killer() {
    while [[ ! -e $OUT/stop ]] && (($(date +%s) < END - 5)); do
        sleep $((3 + RANDOM % 8))
        local victim pid
        victim=$OUT/pids/$( ((RANDOM % 2)) && echo mixed || echo prep)
        pid=$(cat "$victim" 2>/dev/null || true)
        # Only the pgbench our stream started (its pid file), still running against our Sluice.
        if [[ -n $pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "pgbench .*-p $SLUICE_PORT"; then
            kill -KILL "$pid" 2>/dev/null && echo "kill,$(date +%s)" >>"$OUT/faults.csv"
        fi
    done
}
echo "fault,at" >"$OUT/faults.csv"
killer &
LOAD_PIDS+=($!)

# ---- sampling and the scheduled faults ----
CSV=$OUT/soak.csv
echo "t,heap_after_gc_kb,rss_kb,fds,threads,cl_active,cl_waiting,sv_active,sv_idle,sv_login,pg_backends" >"$CSV"
sample() {
    local heap rss fds threads pools pgb
    jcmd "$SLUICE_PID" GC.run >/dev/null 2>&1 || true
    heap=$(jstat -gc "$SLUICE_PID" 2>/dev/null | awk 'NR == 2 { printf "%d", $3 + $4 + $6 + $8 }')
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SLUICE_PID/status")
    threads=$(awk '/^Threads/ { print $2 }' "/proc/$SLUICE_PID/status")
    fds=$(find "/proc/$SLUICE_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    pools=$(console "SHOW POOLS" 2>/dev/null | awk -F, -v db=$DB '$1 == db { print $3 "," $4 "," $7 "," $10 "," $13 }')
    pgb=$(psql_pg -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'" 2>/dev/null || echo "")
    echo "$(($(date +%s) - START)),$heap,$rss,$fds,$threads,${pools:-,,,,},$pgb" >>"$CSV"
}
RELOADED=0
RESTARTED=0
RESTART_DONE=0
while (($(date +%s) < END)); do
    kill -0 "$SLUICE_PID" 2>/dev/null || { log "FAIL: Sluice died (see $OUT/sluice.log)"; exit 1; }
    sample
    now=$(date +%s)
    if [[ $RELOADED == 0 ]] && ((now >= RELOAD_AT)); then
        write_ini $((POOL + 2))
        log "RELOAD (default_pool_size $POOL -> $((POOL + 2))): $(console RELOAD 2>&1 || echo failed)"
        echo "reload,$now" >>"$OUT/faults.csv"
        RELOADED=1
    fi
    if [[ $RESTARTED == 0 ]] && ((now >= RESTART_AT)); then
        log "restarting PostgreSQL (pg_ctl restart -m fast)"
        echo "pg_restart,$now" >>"$OUT/faults.csv"
        pg_ctl_ -m fast restart || die "PostgreSQL did not restart"
        RESTART_DONE=$(date +%s)
        log "PostgreSQL back after $((RESTART_DONE - now))s"
        RESTARTED=1
    fi
    sleep "$SAMPLE"
done
touch "$OUT/stop"
log "load stopping"
for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
sleep 3
sample

# ---- verdict ----
FAIL=0
fail() { log "FAIL: $*"; FAIL=1; }
RESTART_AT_ACTUAL=$(awk -F, '$1 == "pg_restart" { print $2 }' "$OUT/faults.csv")
# A run fails when pgbench exited non-zero, was not killed by us (137) and did not overlap the restart.
BAD_RUNS=$(awk -F, -v r0="${RESTART_AT_ACTUAL:-0}" -v r1="$((RESTART_DONE + 5))" \
    'NR > 1 && $4 != 0 && $4 != 137 && !($2 <= r1 && $3 >= r0 - 1) { print $1 "-" $5 }' "$OUT/runs.csv")
for r in $BAD_RUNS; do
    fail "pgbench run $r failed outside the restart window: $(grep -m 3 -iE 'error|abort|fatal' "$OUT/pgbench-$r.log" | tr '\n' ' ')"
    KEEP=1
done
final=$(tail -1 "$CSV")
IFS=, read -r _ _ _ _ _ cl_active cl_waiting sv_active _ sv_login pgb <<<"$final"
[[ "$cl_waiting" == 0 && "$sv_active" == 0 && "$sv_login" == 0 ]] ||
    fail "pool not idle at the end: cl_active=$cl_active cl_waiting=$cl_waiting sv_active=$sv_active sv_login=$sv_login"
IIT=$(psql_pg -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND state <> 'idle'")
[[ "$IIT" == 0 ]] || fail "$IIT backend(s) of $DB not idle at the end (in a transaction or running a query)"
kill -0 "$SLUICE_PID" 2>/dev/null || fail "Sluice is not running at the end"

# First third against last third, by median.
GROWTH=$(awk -F, 'NR > 1 && $2 != "" { n++; h[n] = $2; r[n] = $3; f[n] = $4; t[n] = $5; s[n] = $8 + $9 + $10 }
    function med(a, from, to,   m, i, j, k, tmp, v) {
        m = 0; for (i = from; i <= to; i++) v[++m] = a[i]
        for (i = 2; i <= m; i++) { tmp = v[i]; for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j + 1] = v[j]; v[j + 1] = tmp }
        return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
    }
    END {
        third = int(n / 3); if (third < 1) { print "too few samples"; exit }
        smax = 0; for (i = 1; i <= n; i++) if (s[i] > smax) smax = s[i]
        printf "%d %d %d %d %d %d %d %d %d %d\n", med(h, 1, third), med(h, n - third + 1, n), med(r, 1, third), \
            med(r, n - third + 1, n), med(f, 1, third), med(f, n - third + 1, n), med(t, 1, third), \
            med(t, n - third + 1, n), smax, n
    }' "$CSV")
read -r h1 h3 r1 r3 f1 f3 t1 t3 smax nsamples <<<"$GROWTH"
(( h3 <= h1 * 125 / 100 + 8192 )) || fail "heap after GC grew: median ${h1} kB (first third) -> ${h3} kB (last third)"
(( r3 <= r1 * 125 / 100 + 49152 )) || fail "RSS grew: median ${r1} kB -> ${r3} kB"
(( f3 <= f1 * 125 / 100 + 16 )) || fail "file descriptors grew: median $f1 -> $f3"
(( t3 <= t1 * 110 / 100 + 4 )) || fail "threads grew: median $t1 -> $t3"
(( smax <= POOL + 2 )) || fail "server connections reached $smax, above the pool limit $((POOL + 2))"

CONNECTIONS=$(grep -c ' login: ' "$OUT/sluice.log" || true)
KILLS=$(grep -c '^kill,' "$OUT/faults.csv" || true)
RUNS=$(($(wc -l <"$OUT/runs.csv") - 1))
KILLED_RUNS=$(awk -F, 'NR > 1 && $4 == 137' "$OUT/runs.csv" | wc -l)
RESTART_RUNS=$(awk -F, -v r0="${RESTART_AT_ACTUAL:-0}" -v r1="$((RESTART_DONE + 5))" \
    'NR > 1 && $4 != 0 && $4 != 137 && $2 <= r1 && $3 >= r0 - 1' "$OUT/runs.csv" | wc -l)
XACTS=$(cat "$OUT"/pgbench-*.log 2>/dev/null | awk '/number of transactions actually processed/ { s += $NF + 0 } END { print s + 0 }')
REASONS=$(grep -o 'disconnect: .* reason=[a-z_]*' "$OUT/sluice.log" | sed 's/.*reason=//' | sort | uniq -c |
    awk '{ printf "%s%s=%s", (NR > 1 ? ", " : ""), $2, $1 }')
{
    echo "duration_s=$DURATION samples=$nsamples pool=$POOL->$((POOL + 2))"
    echo "client_connections_served=$CONNECTIONS pgbench_runs=$RUNS transactions_reported=$XACTS (killed runs report none)"
    echo "faults: client_kills=$KILLS (runs killed: $KILLED_RUNS) reload=$RELOADED pg_restart=$RESTARTED (runs hit by it: $RESTART_RUNS)"
    echo "client disconnect reasons: $REASONS"
    echo "heap_after_gc_kb median first/last third: $h1/$h3; rss_kb: $r1/$r3; fds: $f1/$f3; threads: $t1/$t3; max servers: $smax"
    echo "failures: $([[ $FAIL == 0 ]] && echo none || echo see above)"
} | tee "$OUT/summary.txt" >&2
[[ $FAIL == 0 ]] && log "PASS" || log "FAIL"
exit $FAIL
