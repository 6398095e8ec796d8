#!/usr/bin/env bash
# bench/compare.sh: pgbench against direct PostgreSQL, PgBouncer and Sluice, in one run, with the
# same pool size, on a private throwaway PostgreSQL cluster. Everything listens on 127.0.0.1 only.
#
# Scenarios (each run against direct PostgreSQL, then PgBouncer, then Sluice; REPS rounds, medians reported):
#   select-c10    select-only, 10 clients                      pgbench -S -c 10 -M simple
#   select-c50    select-only, 50 clients                      pgbench -S -c 50 -M simple
#   select-c200   select-only, 200 clients                     pgbench -S -c 200 -M simple
#   connect-c20   select-only, reconnect per txn, 20 clients   pgbench -S -C -c 20 -M simple
#   prepared-c10  select-only, 10 clients, -M prepared (PgBouncer 1.18 cannot: it runs -M extended)
#   extended-c10  select-only, 10 clients, -M extended (the same for all three)
# Recorded per run: tps, proxy CPU per transaction, p99 latency (pgbench's per-transaction log), proxy
# RSS after the run; Sluice runs with a GC log and the longest pause is reported.
# With RELAY=1 a fourth target runs between PgBouncer and Sluice: bench/relay/NettyRelay.java, a relay on
# Sluice's Netty, transport and JVM options that only copies bytes (one PostgreSQL connection per client,
# no protocol, no pooling), reported in a table of its own: the CPU the I/O machinery costs before any of
# Sluice's logic. It is not a pooler (one PostgreSQL connection per client), so it runs only the
# 10-client scenarios, where the proxies' pools cover every client too.
#
# Passes (exit 0) only if every pgbench run exited 0, reported "number of failed transactions: 0",
# processed at least one transaction and printed no error; otherwise exits 1 and prints (and saves)
# the pgbench error output and the proxy log lines of the failed runs. Setup problems exit 2.
#
# Usage: bench/compare.sh [--quick] [--no-record] [--keep] [-h]
#   --quick      5-second runs (DURATION=5) and a 2-second warm-up
#   --no-record  do not append the result to docs/benchmarks.md
#   --keep       keep the temp dir (cluster, configs, logs, pgbench output) for inspection
# Environment:
#   DURATION=15  seconds per measured pgbench run     WARMUP=10  s of unmeasured warm-up per scenario and target
#   REPS=3       rounds of all scenarios (medians)    SCENARIOS="select-c10 ..." a subset, in that order
#   POOL=20      default_pool_size of both proxies    SCALE=10   pgbench -i scale factor
#   JOBS=2       pgbench -j threads                   SLUICE_JAR=<repo>/target/sluice.jar
#   PG_PORT=55432 PGB_PORT=56432 SLUICE_PORT=57432 (the next free port is used if one is taken)
#   JAVA_OPTS    extra JVM options for Sluice         DOC=<repo>/docs/benchmarks.md
#   RELAY=0      1: also measure the Netty relay (needs a JDK's javac)   RELAY_PORT=58432
#   OTHER_MAX=5  % of the machine's CPU that other processes may use during a run; a run above it is
#                re-run (NOISY_RETRIES=2 times at most) once they use less for 5 s (waiting up to
#                QUIET_WAIT=300 s, also before the first run), then flagged as unreliable if still so.
#                A failed run is never re-run: it is reported.
#
# Needs root on a fresh Debian 12 (it apt-get installs postgresql-15 and pgbouncer if missing and runs
# PostgreSQL, PgBouncer and Sluice as the `postgres` user). As a non-root user with the packages already
# installed it runs everything as that user.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The command line as typed, with the overrides that were set, for the record.
CMDLINE="bench/compare.sh${*:+ $*}"
for v in QUIET_WAIT NOISY_RETRIES OTHER_MAX SLUICE_JAR JAVA_OPTS JOBS SCALE WARMUP POOL DURATION REPS SCENARIOS RELAY; do
    if [[ -n "${!v+x}" ]]; then CMDLINE="$v=${!v} $CMDLINE"; fi
done

DURATION=${DURATION:-15}
# Every scenario is run unmeasured first, against every target: the JIT compiles each of Sluice's paths
# (simple, extended, prepared, connect) only once it runs, for ~30 s under load on 2 cores (docs/benchmarks.md).
WARMUP=${WARMUP:-10}
REPS=${REPS:-3}
POOL=${POOL:-20}
SCALE=${SCALE:-10}
JOBS=${JOBS:-2}
PG_PORT=${PG_PORT:-55432}
PGB_PORT=${PGB_PORT:-56432}
SLUICE_PORT=${SLUICE_PORT:-57432}
RELAY=${RELAY:-0}
RELAY_PORT=${RELAY_PORT:-58432}
SLUICE_JAR=${SLUICE_JAR:-$REPO/target/sluice.jar}
DOC=${DOC:-$REPO/docs/benchmarks.md}
# Sluice runs with the JVM options its launcher uses (bin/jvm.options) unless JAVA_OPTS is set (even empty).
if [[ -z "${JAVA_OPTS+x}" ]]; then
    JAVA_OPTS=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$REPO/bin/jvm.options" | tr '\n' ' ' | sed 's/ *$//')
fi
RECORD=1
KEEP=0
QUICK=0

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --no-record) RECORD=0 ;;
        --keep) KEEP=1 ;;
        -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $RELAY == 0 || $RELAY == 1 ]] || { echo "compare.sh: RELAY must be 0 or 1, got '$RELAY'" >&2; exit 2; }
if [[ $QUICK == 1 ]]; then
    DURATION=5
    WARMUP=3
    REPS=1
fi
OTHER_MAX=${OTHER_MAX:-5}
NOISY_RETRIES=${NOISY_RETRIES:-2}
QUIET_WAIT=${QUIET_WAIT:-300}
for v in DURATION WARMUP POOL SCALE JOBS PG_PORT PGB_PORT SLUICE_PORT RELAY_PORT OTHER_MAX NOISY_RETRIES QUIET_WAIT REPS; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then echo "compare.sh: $v must be a number, got '${!v}'" >&2; exit 2; fi
done

PGBIN=/usr/lib/postgresql/15/bin
DB=bench
DBUSER=bench
CLK_TCK=$(getconf CLK_TCK)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
FAIL_REPORT=/tmp/sluice-bench-failures-$STAMP.txt

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh" # die, as_user, as_user_exec, as_service_exec, stop_pid, port_in_use, free_port

# ---------------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------------
APT_UPDATED=0
INSTALLED_BY_US=()
apt_install() {
    [[ $EUID == 0 ]] || die "missing packages ($*) and not root; install them or run as root"
    if [[ $APT_UPDATED == 0 ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    INSTALLED_BY_US+=("$@")
}

ensure_packages() {
    local want=()
    [[ -x $PGBIN/postgres && -x $PGBIN/pgbench && -x $PGBIN/initdb && -x $PGBIN/psql ]] || want+=(postgresql-15)
    command -v pgbouncer >/dev/null || [[ -x /usr/sbin/pgbouncer ]] || want+=(pgbouncer)
    command -v java >/dev/null || want+=(openjdk-17-jre-headless)
    command -v timeout >/dev/null || want+=(coreutils)
    if [[ $EUID == 0 ]] && ! command -v setpriv >/dev/null; then want+=(util-linux); fi
    if [[ ${#want[@]} -gt 0 ]]; then apt_install "${want[@]}"; fi
    PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    JAVA=$(command -v java)
}

# The packages start their own daemons (the postgresql@15-main cluster on 5432, pgbouncer on 6432) where
# the init system lets them. Stop those only if this script installed the package just now; they are
# idle and on other ports anyway, so a machine's own services are left alone.
stop_packaged_daemons() {
    local p
    for p in "${INSTALLED_BY_US[@]}"; do
        case "$p" in
            pgbouncer)
                if command -v systemctl >/dev/null && systemctl is-active --quiet pgbouncer 2>/dev/null; then
                    log "stopping the packaged pgbouncer service"; systemctl stop pgbouncer || true
                elif [[ -x /etc/init.d/pgbouncer ]]; then
                    /etc/init.d/pgbouncer stop >/dev/null 2>&1 || true
                fi ;;
            postgresql-15)
                if command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .*online'; then
                    log "stopping the packaged PostgreSQL 15 main cluster"; pg_ctlcluster 15 main stop || true
                fi ;;
        esac
    done
}

# ---------------------------------------------------------------------------------------------------
# Processes: everything we start is tracked by PID and stopped by PID in cleanup.
# ---------------------------------------------------------------------------------------------------
TMP=""
PGB_PID=""
SLUICE_PID=""
RELAY_PID=""
PG_STARTED=0

# Run a command as the unprivileged user (setpriv switches user and execs, no extra process).
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    stop_pid sluice "$SLUICE_PID"
    stop_pid relay "$RELAY_PID"
    stop_pid pgbouncer "$PGB_PID"
    if [[ $PG_STARTED == 1 ]]; then
        as_user "$PGBIN/pg_ctl" -D "$TMP/pgdata" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            { [[ -f $TMP/pgdata/postmaster.pid ]] && kill -KILL "$(head -1 "$TMP/pgdata/postmaster.pid")" 2>/dev/null; }
    fi
    if [[ -n "$TMP" && -d "$TMP" ]]; then
        if [[ $KEEP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql_q() { # port sql
    PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -h 127.0.0.1 -p "$1" -U "$DBUSER" -d "$DB" -Atqc "$2"
}

wait_ready() { # name port pid logfile
    local name=$1 port=$2 pid=$3 logf=$4 i
    for ((i = 0; i < 120; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited during startup; its log:"; tail -n 40 "$logf" >&2 || true
            die "$name did not start"
        fi
        if [[ "$(psql_q "$port" 'select 1' 2>/dev/null)" == 1 ]]; then return 0; fi
        sleep 0.5
    done
    tail -n 40 "$logf" >&2 || true
    die "$name does not answer 'select 1' on 127.0.0.1:$port after 60s"
}

proc_ticks() { # "utime+stime utime" of a process (all its threads), in clock ticks, from one read of /proc
    # Strip "pid (comm) " first: comm may contain spaces; then utime/stime are fields 12 and 13. utime alone
    # is user mode: the process's own code, not the kernel's work for it.
    awk '{ sub(/^.*\) /, ""); print $12 + $13, $12 }' "/proc/$1/stat" 2>/dev/null || echo ""
}

# Everything else on the machine: a snapshot of "pid ppid ticks starttime comm own" of every process,
# ticks being utime+stime+cutime+cstime (children that exited are counted in their parent), own
# utime+stime only.
cpu_snapshot() { # file
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk '{ pid = $1; c = $0; sub(/^[^(]*\(/, "", c); sub(/\) [^)]*$/, "", c); gsub(/[ \t]/, "_", c)
               sub(/^.*\) /, ""); print pid, $2, $12 + $13 + $14 + $15, $20, c, $12 + $13 }' >"$1" || true
}
# CPU ticks used between two snapshots by processes that are not this benchmark's (not this script
# and its children: pgbench and the proxies; not the PostgreSQL cluster; not kernel threads). Sums
# utime+stime+cutime+cstime over those processes after, minus the same sum before: a child that exits
# moves its ticks into its parent's cutime/cstime, so only CPU really used in between remains.
other_ticks() { # before after -> "ticks top-commands"
    local pm=""
    [[ -f $TMP/pgdata/postmaster.pid ]] && pm=$(head -n 1 "$TMP/pgdata/postmaster.pid")
    awk -v roots="$$ ${pm:-0} 2" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) root[r[i]] = 1 }
        function ours(f, p,   d) {
            for (d = 0; d < 64 && p != "" && p != 0; d++) { if (p in root) return 1; p = parent[f, p] }
            return 0
        }
        { f = (FNR == NR) ? 0 : 1; parent[f, $1] = $2; t[f, $1] = $3; st[f, $1] = $4; comm[f, $1] = $5
          own[f, $1] = $6; pids[f, $1] = 1 }
        END {
            for (k in pids) {
                split(k, kk, SUBSEP); f = kk[1]; p = kk[2]
                if (ours(f, p)) continue
                sum += (f == 1) ? t[f, p] : -t[f, p]
                # Which commands ran: their own utime+stime (without reaped children) in between.
                if (f == 1) by[comm[f, p]] += own[1, p] - (((0, p) in own && st[0, p] == st[1, p]) ? own[0, p] : 0)
            }
            top = ""
            for (i = 0; i < 3; i++) {
                best = ""; bv = 0
                for (c in by) if (by[c] > bv) { bv = by[c]; best = c }
                if (best == "") break
                top = top (top == "" ? "" : ",") best ":" bv; delete by[best]
            }
            print (sum > 0 ? sum : 0), top
        }' "$1" "$2"
}

# ---------------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------------
[[ $EUID == 0 ]] || log "not root: running PostgreSQL, PgBouncer and Sluice as $(id -un)"
ensure_packages
stop_packaged_daemons
if [[ $EUID == 0 ]]; then id postgres >/dev/null 2>&1 || die "no 'postgres' user (postgresql-15 creates it)"; fi

# The commit, taken before the jar is copied (a commit made during the run does not change it).
GIT_COMMIT=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ $GIT_COMMIT != unknown ]] && [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- src pom.xml 2>/dev/null)" ]]; then
    GIT_COMMIT="$GIT_COMMIT (plus uncommitted changes to src/ or pom.xml)"
fi

TMP=$(mktemp -d /tmp/sluice-bench.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/runs"

# Sluice jar: copied into the temp dir so a rebuild of target/ during the run cannot change it.
JAR_ORIGIN=""
if [[ ! -f "$SLUICE_JAR" ]]; then
    log "$SLUICE_JAR is missing: building the committed HEAD in a private clone ($TMP/src)"
    command -v mvn >/dev/null || apt_install maven openjdk-17-jdk-headless
    command -v git >/dev/null || apt_install git
    git clone -q "$REPO" "$TMP/src"
    (cd "$TMP/src" && mvn -B -q -DskipTests package) >"$TMP/build.log" 2>&1 ||
        { tail -n 40 "$TMP/build.log" >&2; die "mvn package failed"; }
    SLUICE_JAR=$TMP/src/target/sluice.jar
    JAR_ORIGIN="built from HEAD by compare.sh"
else
    JAR_ORIGIN="$(realpath --relative-to="$REPO" "$SLUICE_JAR" 2>/dev/null || echo "$SLUICE_JAR"), built $(date -u -r "$SLUICE_JAR" '+%Y-%m-%d %H:%M UTC')"
fi
cp "$SLUICE_JAR" "$TMP/sluice.jar"
JAR_SHA=$(sha256sum "$TMP/sluice.jar" | cut -c1-12)
[[ -d "$TMP/src" ]] && rm -rf "$TMP/src"
[[ $EUID == 0 ]] && chown -R postgres:postgres "$TMP"

PG_PORT=$(free_port "$PG_PORT")
PGB_PORT=$(free_port "$PGB_PORT")
[[ $PGB_PORT == "$PG_PORT" ]] && PGB_PORT=$(free_port $((PG_PORT + 1)))
SLUICE_PORT=$(free_port "$SLUICE_PORT")
while [[ $SLUICE_PORT == "$PG_PORT" || $SLUICE_PORT == "$PGB_PORT" ]]; do SLUICE_PORT=$(free_port $((SLUICE_PORT + 1))); done
if [[ $RELAY == 1 ]]; then
    RELAY_PORT=$(free_port "$RELAY_PORT")
    while [[ " $PG_PORT $PGB_PORT $SLUICE_PORT " == *" $RELAY_PORT "* ]]; do RELAY_PORT=$(free_port $((RELAY_PORT + 1))); done
    log "relay port $RELAY_PORT"
fi
log "temp dir $TMP; ports: postgres $PG_PORT, pgbouncer $PGB_PORT, sluice $SLUICE_PORT"

# --- PostgreSQL: a private cluster, trust auth on 127.0.0.1, socket in the temp dir -----------------
log "initdb"
as_user "$PGBIN/initdb" -D "$TMP/pgdata" -U postgres -A trust -E UTF8 --no-sync >"$TMP/initdb.log" 2>&1 ||
    { cat "$TMP/initdb.log" >&2; die "initdb failed"; }
cat >>"$TMP/pgdata/postgresql.conf" <<EOF

# --- bench/compare.sh (throwaway benchmark cluster) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$TMP'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
cat >"$TMP/pgdata/pg_hba.conf" <<EOF
# bench/compare.sh: trust, for benchmarking only (nothing but 127.0.0.1 and the private socket)
local all all trust
host  all all 127.0.0.1/32 trust
EOF
log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
as_user "$PGBIN/pg_ctl" -D "$TMP/pgdata" -l "$TMP/postgres.log" -w -t 60 start >/dev/null ||
    { tail -n 40 "$TMP/postgres.log" >&2; die "PostgreSQL did not start"; }
PG_STARTED=1
PGCONNECT_TIMEOUT=5 "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c "CREATE ROLE $DBUSER LOGIN" -c "CREATE DATABASE $DB OWNER $DBUSER" >/dev/null
log "pgbench -i -s $SCALE (directly, once)"
"$PGBIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U "$DBUSER" "$DB" >"$TMP/pgbench-init.log" 2>&1 ||
    { cat "$TMP/pgbench-init.log" >&2; die "pgbench -i failed"; }

# --- Proxies: the same pool settings; connection logging off in both --------------------------------
printf '"%s" ""\n' "$DBUSER" >"$TMP/userlist.txt"
cat >"$TMP/pgbouncer.ini" <<EOF
[databases]
$DB = host=127.0.0.1 port=$PG_PORT dbname=$DB

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 1000
logfile = $TMP/pgbouncer.log
pidfile = $TMP/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
cat >"$TMP/sluice.ini" <<EOF
[databases]
$DB = host=127.0.0.1 port=$PG_PORT dbname=$DB

[sluice]
listen_addr = 127.0.0.1
listen_port = $SLUICE_PORT
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 1000
log_connections = 0
log_disconnections = 0
EOF
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP"/*.ini "$TMP/userlist.txt"

log "starting PgBouncer on 127.0.0.1:$PGB_PORT"
# Foreground (no -d): $! is pgbouncer itself. Its own log goes to logfile; stderr is kept too.
as_service_exec "$PGBOUNCER" "$TMP/pgbouncer.ini" >"$TMP/pgbouncer.stderr" 2>&1 &
PGB_PID=$!
wait_ready PgBouncer "$PGB_PORT" "$PGB_PID" "$TMP/pgbouncer.log"
[[ "$(cat "/proc/$PGB_PID/comm" 2>/dev/null)" == pgbouncer ]] || die "pid $PGB_PID is not pgbouncer"

log "java -jar sluice.jar check-config sluice.ini"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
as_user "$JAVA" $JAVA_OPTS -jar "$TMP/sluice.jar" check-config "$TMP/sluice.ini" >"$TMP/check-config.log" 2>&1 ||
    { cat "$TMP/check-config.log" >&2; die "sluice check-config rejected the generated sluice.ini"; }
log "starting Sluice on 127.0.0.1:$SLUICE_PORT"
# shellcheck disable=SC2086
as_service_exec "$JAVA" $JAVA_OPTS "-Xlog:gc:file=$TMP/sluice-gc.log" -jar "$TMP/sluice.jar" run "$TMP/sluice.ini" >"$TMP/sluice.log" 2>&1 &
SLUICE_PID=$!
wait_ready Sluice "$SLUICE_PORT" "$SLUICE_PID" "$TMP/sluice.log"
[[ "$(cat "/proc/$SLUICE_PID/comm" 2>/dev/null)" == java ]] || die "pid $SLUICE_PID is not java"
# Which Netty transport Sluice chose and why ("io_uring (default)", "epoll (io_uring not available: ...)").
SLUICE_TRANSPORT_USED=$(grep -o -m 1 'SluiceServer: transport .*' "$TMP/sluice.log" | sed 's/^SluiceServer: transport //' || true)
log "Sluice transport: ${SLUICE_TRANSPORT_USED:-unknown}"

if [[ $RELAY == 1 ]]; then
    # Compiled against the copied jar (its Netty and Transport), run with Sluice's JVM options.
    JAVAC=$(dirname "$(readlink -f "$JAVA")")/javac
    [[ -x $JAVAC ]] || die "RELAY=1 needs javac beside $JAVA (a JDK, e.g. openjdk-17-jdk-headless)"
    mkdir -p "$TMP/relay"
    "$JAVAC" -d "$TMP/relay" -cp "$TMP/sluice.jar" "$REPO/bench/relay/NettyRelay.java" >"$TMP/relay-build.log" 2>&1 ||
        { cat "$TMP/relay-build.log" >&2; die "could not compile bench/relay/NettyRelay.java"; }
    [[ $EUID == 0 ]] && chown -R postgres:postgres "$TMP/relay"
    log "starting the Netty relay on 127.0.0.1:$RELAY_PORT (the floor: bytes copied, nothing else)"
    # shellcheck disable=SC2086
    as_service_exec "$JAVA" $JAVA_OPTS -cp "$TMP/sluice.jar:$TMP/relay" NettyRelay "$RELAY_PORT" "$PG_PORT" >"$TMP/relay.log" 2>&1 &
    RELAY_PID=$!
    wait_ready relay "$RELAY_PORT" "$RELAY_PID" "$TMP/relay.log"
    [[ "$(cat "/proc/$RELAY_PID/comm" 2>/dev/null)" == java ]] || die "pid $RELAY_PID is not java"
fi

# ---------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------
MAIN_TARGETS=(direct pgbouncer sluice)
TARGETS=(direct pgbouncer sluice)
[[ $RELAY == 1 ]] && TARGETS=(direct pgbouncer relay sluice)
declare -A PORT=([direct]=$PG_PORT [pgbouncer]=$PGB_PORT [sluice]=$SLUICE_PORT [relay]=$RELAY_PORT)
declare -A PID=([direct]="" [pgbouncer]=$PGB_PID [sluice]=$SLUICE_PID [relay]=$RELAY_PID)
declare -A PLOG=([direct]=$TMP/postgres.log [pgbouncer]=$TMP/pgbouncer.log [sluice]=$TMP/sluice.log [relay]=$TMP/relay.log)
# The relay is not a pooler: it gives every client a PostgreSQL connection of its own, so it is measured
# only where the proxies' pools (POOL) cover every client too; with 50 or 200 clients it would measure
# PostgreSQL with that many backends, and with -C PostgreSQL's fork per connection.
skipped() { # scenario target
    [[ $2 == relay ]] || return 1
    case $1 in select-c10 | prepared-c10 | extended-c10) [[ $POOL -lt 10 ]] ;; *) return 0 ;; esac
}

ALL_SCEN_IDS=(select-c10 select-c50 select-c200 connect-c20 prepared-c10 extended-c10)
read -r -a SCEN_IDS <<<"${SCENARIOS:-${ALL_SCEN_IDS[*]}}"
declare -A SCEN_NAME=([select-c10]="select-only, 10 clients" [select-c50]="select-only, 50 clients"
    [select-c200]="select-only, 200 clients"
    [connect-c20]="select-only + reconnect per txn (-C), 20 clients"
    [prepared-c10]="select-only -M prepared, 10 clients (PgBouncer: -M extended)"
    [extended-c10]="select-only -M extended, 10 clients")
declare -A SCEN_ARGS=([select-c10]="-S -c 10 -M simple" [select-c50]="-S -c 50 -M simple"
    [select-c200]="-S -c 200 -M simple" [connect-c20]="-S -C -c 20 -M simple"
    [prepared-c10]="-S -c 10 -M prepared" [extended-c10]="-S -c 10 -M extended")
# PgBouncer 1.18 (Debian 12) has no protocol-level prepared statements in transaction mode: -M prepared
# fails there ("prepared statement ... does not exist"), so it runs the nearest mode, -M extended.
declare -A SCEN_ARGS_PGB=([prepared-c10]="-S -c 10 -M extended")
for s in "${SCEN_IDS[@]}"; do
    [[ -n "${SCEN_ARGS[$s]:-}" ]] || die "unknown scenario '$s' in SCENARIOS (known: ${ALL_SCEN_IDS[*]})"
done

declare -A TPS FAILED CPU UCPU STATUS OTHER OTHER_TOP P99 RSS TPS_ALL
NPROC=$(nproc)
FAILURES=()
NOTES=()
: >"$TMP/failures.txt"

pgbench_cmd() { # port duration scenario-args...
    local port=$1 dur=$2
    shift 2
    echo "$PGBIN/pgbench -h 127.0.0.1 -p $port -U $DBUSER -n -j $JOBS -T $dur $* $DB"
}

# run_one key target duration scenario-args: runs pgbench, checks it, records into the arrays.
run_one() {
    local key=$1 target=$2 dur=$3 sargs=$4
    local port=${PORT[$target]} pid=${PID[$target]} plog=${PLOG[$target]}
    local out=$TMP/runs/$key-$target.out err=$TMP/runs/$key-$target.err
    local cmd rc=0 t0="" t1="" u0="" u1="" w0 w1 oticks otop tps txns failed problems=() log_from
    cmd=$(pgbench_cmd "$port" "$dur" "$sargs")
    # Per-transaction log (for p99): files $TMP/runs/lat-KEY-TARGET.PID[.N], removed once read.
    local latp=$TMP/runs/lat-$key-$target
    cmd="${cmd% "$DB"} -l --log-prefix=$latp $DB"
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
        STATUS[$key/$target]="DOWN"
        FAILURES+=("$key/$target: $target is not running (it exited earlier)")
        log "  $target: SKIPPED, the process is gone"
        return 0
    fi
    log_from=$(($(wc -l <"$plog" 2>/dev/null || echo 0) + 1))
    cpu_snapshot "$TMP/cpu.before"
    w0=$(date +%s.%N)
    [[ -n "$pid" ]] && read -r t0 u0 < <(proc_ticks "$pid")
    # shellcheck disable=SC2086 # cmd is a plain word list
    PGCONNECT_TIMEOUT=10 timeout -k 10 $((dur + 60)) $cmd >"$out" 2>"$err" || rc=$?
    [[ -n "$pid" ]] && read -r t1 u1 < <(proc_ticks "$pid")
    w1=$(date +%s.%N)
    cpu_snapshot "$TMP/cpu.after"
    read -r oticks otop < <(other_ticks "$TMP/cpu.before" "$TMP/cpu.after")
    OTHER[$key/$target]=$(awk -v t="$oticks" -v hz="$CLK_TCK" -v a="$w0" -v b="$w1" -v n="$NPROC" \
        'BEGIN { printf "%.0f", 100 * t / hz / ((b - a) * n) }')
    OTHER_TOP[$key/$target]=${otop:-?}

    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -n 1)
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out" | head -n 1)
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out" | head -n 1)

    [[ $rc == 124 || $rc == 137 ]] && problems+=("pgbench did not finish within $((dur + 60))s (timeout; hang?)")
    [[ $rc != 0 && $rc != 124 && $rc != 137 ]] && problems+=("pgbench exited with status $rc")
    [[ -z "$tps" ]] && problems+=("no 'tps =' line in pgbench output")
    [[ -z "$txns" || "$txns" == 0 ]] && problems+=("processed ${txns:-no} transactions")
    if [[ -z "$failed" ]]; then problems+=("no 'number of failed transactions' line in pgbench output")
    elif [[ "$failed" != 0 ]]; then problems+=("$failed failed transactions"); fi
    if grep -qiE 'error|abort|fatal|could not|timeout|closed' "$err"; then
        problems+=("pgbench printed errors: $(grep -ciE 'error|abort|fatal|could not|timeout|closed' "$err") lines")
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then problems+=("$target exited during the run"); fi
    if [[ $target != direct ]]; then # not a failure by itself, but worth a look
        local nwarn
        nwarn=$(tail -n "+$log_from" "$plog" 2>/dev/null | grep -cE 'WARN|ERROR|FATAL|PANIC' || true)
        [[ "$nwarn" -gt 0 ]] && NOTES+=("$key/$target: $nwarn WARN/ERROR lines in the $target log during the run")
    fi

    # p99 of the per-transaction latencies (3rd column, microseconds), in ms.
    P99[$key/$target]=$(cat "$latp".* 2>/dev/null | awk '{ print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END { if (NR > 0) { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 } }' || true)
    rm -f "$latp".*
    RSS[$key/$target]=""
    [[ -n "$pid" ]] && RSS[$key/$target]=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || true)
    TPS[$key/$target]=${tps:-}
    FAILED[$key/$target]=${failed:-?}
    if [[ -n "$t0" && -n "$t1" && -n "$txns" && "$txns" -gt 0 ]]; then
        CPU[$key/$target]=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$txns" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
        UCPU[$key/$target]=$(awk -v a="$u0" -v b="$u1" -v hz="$CLK_TCK" -v n="$txns" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
    else
        CPU[$key/$target]=""
        UCPU[$key/$target]=""
    fi

    if [[ ${#problems[@]} == 0 ]]; then
        STATUS[$key/$target]=OK
        log "  $target: tps ${tps}, ${txns} txns, failed ${failed}${CPU[$key/$target]:+, proxy CPU ${CPU[$key/$target]} us/txn}, other processes ${OTHER[$key/$target]}% CPU${otop:+ ($otop)}"
        return 0
    fi
    STATUS[$key/$target]=FAIL
    if [[ $target == sluice && ( $rc == 124 || $rc == 137 ) ]] && kill -0 "$pid" 2>/dev/null; then
        # A hang: ask the JVM for a thread dump (SIGQUIT; it goes to Sluice's stdout, i.e. its log).
        kill -QUIT "$pid" 2>/dev/null || true
        sleep 2
    fi
    local full_log=${FAIL_REPORT%.txt}-$key-$target.log
    tail -n "+$log_from" "$plog" >"$full_log" 2>/dev/null || true
    local summary
    summary=$(printf '%s; ' "${problems[@]}")
    summary=${summary%; }
    FAILURES+=("$key/$target: $summary")
    log "  $target: FAILED: $summary"
    {
        echo "=== FAILED: $key via $target ==="
        echo "command: PGCONNECT_TIMEOUT=10 timeout -k 10 $((dur + 60)) $cmd"
        echo "exit status: $rc"
        echo "problems: $summary"
        echo "--- pgbench stderr ($(wc -l <"$err") lines; first 30, last 10) ---"
        head -n 30 "$err"
        if [[ $(wc -l <"$err") -gt 40 ]]; then echo "..."; tail -n 10 "$err"; fi
        echo "--- pgbench stdout ---"
        cat "$out"
        echo "--- $target log lines written during the run (first 60, last 20; all of them, with any thread dump, in $full_log) ---"
        tail -n "+$log_from" "$plog" 2>/dev/null | head -n 60
        if [[ $(tail -n "+$log_from" "$plog" 2>/dev/null | wc -l) -gt 80 ]]; then
            echo "..."; tail -n "+$log_from" "$plog" | tail -n 20
        fi
        if [[ $target != direct ]]; then
            echo "--- PostgreSQL log lines (last 20) ---"
            tail -n 20 "$TMP/postgres.log"
        fi
        echo
    } >>"$TMP/failures.txt"
}

# % of the machine's CPU that other processes use over 5 seconds.
other_now() {
    local a b oticks otop
    cpu_snapshot "$TMP/cpu.q0"
    a=$(date +%s.%N)
    sleep 5
    b=$(date +%s.%N)
    cpu_snapshot "$TMP/cpu.q1"
    read -r oticks otop < <(other_ticks "$TMP/cpu.q0" "$TMP/cpu.q1")
    awk -v t="$oticks" -v hz="$CLK_TCK" -v a="$a" -v b="$b" -v n="$NPROC" 'BEGIN { printf "%.0f", 100 * t / hz / ((b - a) * n) }'
}

# Waits (up to QUIET_WAIT seconds) until other processes use at most OTHER_MAX% of the CPU.
wait_quiet() {
    local start=$SECONDS pct told=0
    while :; do
        pct=$(other_now)
        [[ $pct -le $OTHER_MAX ]] && return 0
        if [[ $((SECONDS - start)) -ge $QUIET_WAIT ]]; then
            log "the machine is still busy after ${QUIET_WAIT}s (other processes use ${pct}% CPU); going on"
            return 1
        fi
        if [[ $told == 0 || $((SECONDS - told)) -ge 60 ]]; then
            log "waiting for the machine to be quiet: other processes use ${pct}% CPU (at most ${QUIET_WAIT}s)"
            told=$SECONDS
        fi
        sleep 2
    done
}

# measure key target duration args: run_one, re-run (up to NOISY_RETRIES times, once the machine is
# quiet again) a run during which other processes used more than OTHER_MAX% of the CPU. A FAILED
# run is never re-run: it is reported as it is.
measure() {
    local key=$1 target=$2 attempt=0
    while :; do
        run_one "$@"
        [[ ${STATUS[$key/$target]} == OK ]] || return 0
        [[ ${OTHER[$key/$target]} -le $OTHER_MAX ]] && return 0
        if [[ $attempt -ge $NOISY_RETRIES ]]; then
            NOTES+=("$key/$target: other processes used ${OTHER[$key/$target]}% of the machine's CPU during the run (ticks by command: ${OTHER_TOP[$key/$target]}): its numbers are not reliable")
            return 0
        fi
        attempt=$((attempt + 1))
        NOTES+=("$key/$target: re-run (#$attempt) because other processes used ${OTHER[$key/$target]}% of the CPU (${OTHER_TOP[$key/$target]}); the attempt had $(printf '%.0f' "${TPS[$key/$target]}") tps, 0 failed")
        log "  $target: other processes used ${OTHER[$key/$target]}% of the CPU during the run; re-running it when the machine is quiet"
        wait_quiet || true
    done
}

if [[ $QUIET_WAIT -gt 0 ]]; then wait_quiet || true; fi
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the runs: $LOADAVG"
if awk -v l="${LOADAVG%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    log "WARNING: the machine is busy (load average $LOADAVG on $(nproc) cores): numbers will be noisy"
fi
if [[ $WARMUP -gt 0 ]]; then
    log "warm-up (not measured, but checked): every scenario, ${WARMUP}s per target"
    for s in "${SCEN_IDS[@]}"; do
        for t in "${TARGETS[@]}"; do
            skipped "$s" "$t" && continue
            args=${SCEN_ARGS[$s]}
            [[ $t == pgbouncer && -n "${SCEN_ARGS_PGB[$s]:-}" ]] && args=${SCEN_ARGS_PGB[$s]}
            run_one "warmup-$s" "$t" "$WARMUP" "$args"
        done
    done
fi
# GC pauses from here on happened during measured runs (the ones before: start-up and warm-up).
GC_LINES_BEFORE=$(wc -l <"$TMP/sluice-gc.log" 2>/dev/null || echo 0)
for ((rep = 1; rep <= REPS; rep++)); do
    for s in "${SCEN_IDS[@]}"; do
        log "round $rep/$REPS: ${SCEN_NAME[$s]}: ${DURATION}s per target"
        for t in "${TARGETS[@]}"; do
            skipped "$s" "$t" && continue
            args=${SCEN_ARGS[$s]}
            [[ $t == pgbouncer && -n "${SCEN_ARGS_PGB[$s]:-}" ]] && args=${SCEN_ARGS_PGB[$s]}
            measure "$s#$rep" "$t" "$DURATION" "$args"
            sleep 1
        done
    done
done

# Medians over the rounds (a failed round fails the scenario for that target).
median() { # numbers separated by spaces on stdin (empty ones ignored) -> their median, or nothing
    tr ' ' '\n' | awk 'NF' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for s in "${SCEN_IDS[@]}"; do
    for t in "${TARGETS[@]}"; do
        if skipped "$s" "$t"; then STATUS[$s/$t]=SKIPPED; continue; fi
        st=OK tl="" cl="" ul="" pl="" rl="" fl=0 ol=0
        for ((rep = 1; rep <= REPS; rep++)); do
            k="$s#$rep/$t"
            [[ "${STATUS[$k]:-}" == OK ]] || st=${STATUS[$k]:-FAIL}
            tl+=" ${TPS[$k]:-}"; cl+=" ${CPU[$k]:-}"; ul+=" ${UCPU[$k]:-}"; pl+=" ${P99[$k]:-}"; rl+=" ${RSS[$k]:-}"
            [[ "${FAILED[$k]:-?}" =~ ^[0-9]+$ ]] && fl=$((fl + FAILED[$k]))
            [[ -n "${OTHER[$k]:-}" && ${OTHER[$k]} -gt $ol ]] && ol=${OTHER[$k]}
        done
        STATUS[$s/$t]=$st; TPS[$s/$t]=$(median <<<"$tl"); CPU[$s/$t]=$(median <<<"$cl"); UCPU[$s/$t]=$(median <<<"$ul")
        P99[$s/$t]=$(median <<<"$pl"); RSS[$s/$t]=$(tr ' ' '\n' <<<"$rl" | sort -n | tail -n 1 || true)
        FAILED[$s/$t]=$fl; OTHER[$s/$t]=$ol
        # shellcheck disable=SC2086 # one number per word
        TPS_ALL[$s/$t]=$(printf '%.0f ' $tl 2>/dev/null)
    done
done

# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------
ratio() { # a b -> a/b with 2 decimals, or n/a
    if [[ -n "$1" && -n "$2" ]]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; else echo "n/a"; fi
}
cell_tps() { # key target
    local k=$1/$2
    case "${STATUS[$k]:-}" in
        OK) awk -v x="${TPS[$k]}" 'BEGIN { printf "%.0f", x }' ;;
        DOWN) echo "DOWN" ;;
        *) if [[ -n "${TPS[$k]:-}" ]]; then awk -v x="${TPS[$k]}" 'BEGIN { printf "%.0f FAIL", x }'; else echo "FAIL"; fi ;;
    esac
}
cell_failed() { # key: failed txns of direct/pgbouncer/sluice, ERR where the run failed otherwise
    local k=$1 t out=()
    for t in "${MAIN_TARGETS[@]}"; do
        if [[ "${STATUS[$k/$t]:-}" == OK ]]; then out+=("${FAILED[$k/$t]}")
        elif [[ "${FAILED[$k/$t]:-?}" =~ ^[1-9] ]]; then out+=("${FAILED[$k/$t]}")
        else out+=("ERR"); fi
    done
    (IFS=/; echo "${out[*]}")
}

cell_other() { # key: the most CPU (% of the machine) that other processes used during its runs
    local k=$1 t m=0
    for t in "${MAIN_TARGETS[@]}"; do
        if [[ -n "${OTHER[$k/$t]:-}" && ${OTHER[$k/$t]} -gt $m ]]; then m=${OTHER[$k/$t]}; fi
    done
    echo "$m%"
}

# shellcheck disable=SC2034 # read through plain_table/md_table's namerefs
HEADERS=("scenario" "direct tps" "pgbouncer tps" "sluice tps" "sluice/pgbouncer" "sluice/direct"
    "pgbouncer/direct" "pgbouncer CPU µs/txn" "sluice CPU µs/txn" "p99 ms (d/p/s)" "RSS MiB (p/s)"
    "failed txns (d/p/s)" "other load")
ROWS=()
for s in "${SCEN_IDS[@]}"; do
    row=("${SCEN_NAME[$s]}" "$(cell_tps "$s" direct)" "$(cell_tps "$s" pgbouncer)" "$(cell_tps "$s" sluice)"
        "$(ratio "${TPS[$s/sluice]:-}" "${TPS[$s/pgbouncer]:-}")" "$(ratio "${TPS[$s/sluice]:-}" "${TPS[$s/direct]:-}")"
        "$(ratio "${TPS[$s/pgbouncer]:-}" "${TPS[$s/direct]:-}")" "${CPU[$s/pgbouncer]:-n/a}" "${CPU[$s/sluice]:-n/a}"
        "${P99[$s/direct]:-?}/${P99[$s/pgbouncer]:-?}/${P99[$s/sluice]:-?}" "${RSS[$s/pgbouncer]:-?}/${RSS[$s/sluice]:-?}"
        "$(cell_failed "$s")" "$(cell_other "$s")")
    ROWS+=("$(IFS=$'\t'; echo "${row[*]}")")
done

# The floor (RELAY=1): what the relay costs is the JVM's and Netty's part of Sluice's CPU per transaction.
diff1() { # a b -> a-b with 1 decimal, or n/a
    if [[ -n "$1" && -n "$2" ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", a - b }'; else echo "n/a"; fi
}
# shellcheck disable=SC2034 # read through plain_table/md_table's namerefs
RELAY_HEADERS=("scenario" "relay tps" "relay/pgbouncer tps" "pgbouncer CPU µs/txn" "relay CPU µs/txn" "sluice CPU µs/txn"
    "relay − pgbouncer (JVM + Netty)" "sluice − relay (Sluice's own work)" "user-mode µs/txn (p/r/s)" "p99 ms (p/r/s)")
RELAY_ROWS=()
if [[ $RELAY == 1 ]]; then
    for s in "${SCEN_IDS[@]}"; do
        skipped "$s" relay && continue
        row=("${SCEN_NAME[$s]}" "$(cell_tps "$s" relay)" "$(ratio "${TPS[$s/relay]:-}" "${TPS[$s/pgbouncer]:-}")"
            "${CPU[$s/pgbouncer]:-n/a}" "${CPU[$s/relay]:-n/a}" "${CPU[$s/sluice]:-n/a}"
            "$(diff1 "${CPU[$s/relay]:-}" "${CPU[$s/pgbouncer]:-}")" "$(diff1 "${CPU[$s/sluice]:-}" "${CPU[$s/relay]:-}")"
            "${UCPU[$s/pgbouncer]:-?}/${UCPU[$s/relay]:-?}/${UCPU[$s/sluice]:-?}"
            "${P99[$s/pgbouncer]:-?}/${P99[$s/relay]:-?}/${P99[$s/sluice]:-?}")
        RELAY_ROWS+=("$(IFS=$'\t'; echo "${row[*]}")")
    done
fi

# Sluice's GC: the longest pause during the measured runs, and over the whole benchmark (start-up, warm-up).
gc_pauses() { # GC log lines on stdin -> pause times in ms, one per line
    grep -o 'Pause[^)]*)[^0-9]*[0-9.]*M->[0-9.]*M([0-9.]*M) [0-9.]*ms' | sed 's/.* \([0-9.]*\)ms$/\1/' || true
}
GC_MAX=$(tail -n +"$((GC_LINES_BEFORE + 1))" "$TMP/sluice-gc.log" 2>/dev/null | gc_pauses | sort -g | tail -n 1)
GC_COUNT=$(tail -n +"$((GC_LINES_BEFORE + 1))" "$TMP/sluice-gc.log" 2>/dev/null | grep -c 'Pause' || true)
GC_MAX_ALL=$(gc_pauses <"$TMP/sluice-gc.log" 2>/dev/null | sort -g | tail -n 1)
GC_COUNT_ALL=$(grep -c 'Pause' "$TMP/sluice-gc.log" 2>/dev/null || true)
GC_LINE="Sluice GC: ${GC_COUNT} pauses during the measured runs, longest ${GC_MAX:-0} ms; ${GC_COUNT_ALL} over the whole benchmark (start-up and warm-up included), longest ${GC_MAX_ALL:-0} ms (-Xlog:gc; JAVA_OPTS='${JAVA_OPTS}')"

# Issue #7's targets, checked against the medians (reached / missed, never adjusted).
TARGET_LINES=()
target_ratio() { # label scenario min-ratio
    local r
    r=$(ratio "${TPS[$2/sluice]:-}" "${TPS[$2/pgbouncer]:-}")
    if [[ $r == n/a ]]; then TARGET_LINES+=("$1: n/a (a run failed)"); return; fi
    if awk -v r="$r" -v m="$3" 'BEGIN { exit !(r >= m) }'; then TARGET_LINES+=("$1: reached ($r ≥ $3)")
    else TARGET_LINES+=("$1: MISSED ($r < $3)"); fi
}
has_scen() { [[ " ${SCEN_IDS[*]} " == *" $1 "* ]]; }
for s in select-c10 select-c50 select-c200; do has_scen $s && target_ratio "tps $s ≥ 1.1× PgBouncer" $s 1.1; done
has_scen connect-c20 && target_ratio "tps connect-c20 (-C) ≥ 1.5× PgBouncer" connect-c20 1.5
has_scen prepared-c10 && target_ratio "tps -M prepared (PgBouncer -M extended) ≥ 1.1× PgBouncer" prepared-c10 1.1
for s in "${SCEN_IDS[@]}"; do
    c1=${CPU[$s/sluice]:-} c2=${CPU[$s/pgbouncer]:-}
    [[ -n "$c1" && -n "$c2" ]] || continue
    if awk -v a="$c1" -v b="$c2" 'BEGIN { exit !(a <= b) }'; then TARGET_LINES+=("CPU/txn $s ≤ PgBouncer's: reached ($c1 ≤ $c2 µs)")
    else TARGET_LINES+=("CPU/txn $s ≤ PgBouncer's: MISSED ($c1 > $c2 µs)"); fi
done
if has_scen select-c10 && [[ -n "${P99[select-c10/sluice]:-}" && -n "${P99[select-c10/pgbouncer]:-}" ]]; then
    if awk -v a="${P99[select-c10/sluice]}" -v b="${P99[select-c10/pgbouncer]}" 'BEGIN { exit !(a <= b) }'; then
        TARGET_LINES+=("p99 at 10 clients ≤ PgBouncer's: reached (${P99[select-c10/sluice]} ≤ ${P99[select-c10/pgbouncer]} ms)")
    else TARGET_LINES+=("p99 at 10 clients ≤ PgBouncer's: MISSED (${P99[select-c10/sluice]} > ${P99[select-c10/pgbouncer]} ms)"); fi
fi
GC_KEPT=""
if [[ -n "${GC_MAX:-}" ]] && awk -v g="$GC_MAX" 'BEGIN { exit !(g > 10) }'; then
    # The temp dir goes at exit (without --keep): keep the GC log of a run that misses the bound, to read why.
    GC_KEPT=/tmp/sluice-bench-gc-$STAMP.log
    cp "$TMP/sluice-gc.log" "$GC_KEPT" 2>/dev/null || GC_KEPT=""
    TARGET_LINES+=("no GC pause above 10 ms during the measured runs: MISSED (longest $GC_MAX ms; ${GC_MAX_ALL:-0} ms with start-up and warm-up${GC_KEPT:+; GC log kept in $GC_KEPT})")
else TARGET_LINES+=("no GC pause above 10 ms during the measured runs: reached (longest ${GC_MAX:-0} ms; ${GC_MAX_ALL:-0} ms with start-up and warm-up)"); fi

plain_table() { # [headers-array rows-array] (default HEADERS ROWS)
    local -n hdr=${1:-HEADERS} rws=${2:-ROWS}
    { (IFS=$'\t'; echo "${hdr[*]}") | sed 's/µs/us/g'; printf '%s\n' "${rws[@]}"; } |
        awk -F'\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; l = length($i); if (l > w[i]) w[i] = l } n = NR; nf = NF }
            END { for (r = 1; r <= n; r++) { line = ""
                      for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-*s" : " | %*s", w[i], c[r, i])
                      print line
                      if (r == 1) { s = ""; for (i = 1; i <= nf; i++) { d = sprintf("%*s", w[i], ""); gsub(/ /, "-", d); s = s (i == 1 ? "" : "-+-") d } print s } } }'
}
md_table() { # [headers-array rows-array] (default HEADERS ROWS)
    local -n hdr=${1:-HEADERS} rws=${2:-ROWS}
    (IFS=$'\t'; echo "${hdr[*]}") | awk -F'\t' '{ s = "|"; t = "|"; for (i = 1; i <= NF; i++) { s = s " " $i " |"; t = t (i == 1 ? " --- |" : " ---: |") } print s; print t }'
    printf '%s\n' "${rws[@]}" | awk -F'\t' '{ s = "|"; for (i = 1; i <= NF; i++) s = s " " $i " |"; print s }'
}

if [[ ${#FAILURES[@]} == 0 ]]; then RESULT="PASS: every run finished with 0 failed transactions and no errors"
else RESULT="FAIL: ${#FAILURES[@]} run(s) failed"; fi

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
RAM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
OS=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null || true)
PG_VERSION=$("$PGBIN/postgres" --version)
PGB_VERSION=$("$PGBOUNCER" --version 2>&1 | head -n 1)
JAVA_VERSION=$("$JAVA" -version 2>&1 | head -n 1)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')

echo
echo "Sluice vs PgBouncer vs direct PostgreSQL: pgbench, ${DURATION}s per run, median of $REPS, -j $JOBS, pool size $POOL, scale $SCALE"
plain_table
if [[ $RELAY == 1 ]]; then
    echo
    echo "The floor: a Netty relay that only copies bytes (bench/relay/NettyRelay.java), same JVM options"
    plain_table RELAY_HEADERS RELAY_ROWS
fi
echo
echo "$RESULT"
echo "$GC_LINE"
printf 'target %s\n' "${TARGET_LINES[@]}"
echo "commit $GIT_COMMIT; sluice.jar $JAR_ORIGIN, sha256 $JAR_SHA"
echo "machine: $(nproc) cores ($CPU_MODEL), $RAM RAM, kernel $(uname -r), $OS; load average before: $LOADAVG"
echo "$PG_VERSION; $PGB_VERSION; $JAVA_VERSION"

if [[ ${#NOTES[@]} -gt 0 ]]; then
    echo
    echo "Notes:"
    printf '  %s\n' "${NOTES[@]}"
fi
if [[ ${#FAILURES[@]} -gt 0 ]]; then
    cp "$TMP/failures.txt" "$FAIL_REPORT"
    echo
    echo "Failed runs:"
    printf '  %s\n' "${FAILURES[@]}"
    echo
    cat "$FAIL_REPORT"
    echo "(this failure report is saved in $FAIL_REPORT)"
fi

if [[ $RECORD == 1 ]]; then
    mkdir -p "$(dirname "$DOC")"
    if [[ ! -f "$DOC" ]]; then
        # A new results file: the method is in this script's header (--help) and in the repository's copy.
        cat >"$DOC" <<'EOF'
# Benchmarks

`bench/compare.sh` (see `bench/compare.sh --help` for its method) appends its results here.

## Results
EOF
    fi
    {
        echo
        echo "### $DATE: commit $GIT_COMMIT"
        echo
        echo "- Command: \`$CMDLINE\` (${DURATION}s per run, median of $REPS rounds, ${WARMUP}s warm-up per scenario and target, \`-j $JOBS\`, pool size $POOL, scale $SCALE)"
        # shellcheck disable=SC2016 # the backquotes are Markdown
        echo "- pgbench: \`$(pgbench_cmd PORT "$DURATION" "<scenario args>" | sed "s|$PGBIN/||") -l\` with scenario args: $(for s in "${SCEN_IDS[@]}"; do printf '%s \`%s\`; ' "$s" "${SCEN_ARGS[$s]}"; done)"
        echo "- $GC_LINE"
        echo "- Result: **$RESULT**"
        echo "- Machine: $(nproc) cores, $CPU_MODEL, $RAM RAM, kernel $(uname -r), $OS; load average before the runs $LOADAVG; sched_autogroup $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo n/a) (each proxy in a session of its own)"
        echo "- Versions: $PG_VERSION; $PGB_VERSION; $JAVA_VERSION; Sluice: $JAR_ORIGIN, sha256 $JAR_SHA; transport ${SLUICE_TRANSPORT_USED:-unknown}"
        echo
        md_table
        if [[ $RELAY == 1 ]]; then
            echo
            echo "The floor: a relay on Sluice's Netty, transport and JVM options that only copies bytes (\`bench/relay/NettyRelay.java\`, one PostgreSQL connection per client, so only the 10-client scenarios, where the pools cover every client too):"
            echo
            md_table RELAY_HEADERS RELAY_ROWS
        fi
        echo
        echo "Targets of issue #7 (medians):"
        echo
        printf -- '- %s\n' "${TARGET_LINES[@]}"
        echo
        echo "tps of every round (direct / pgbouncer / sluice):"
        echo
        for s in "${SCEN_IDS[@]}"; do
            echo "- $s: ${TPS_ALL[$s/direct]:-} / ${TPS_ALL[$s/pgbouncer]:-} / ${TPS_ALL[$s/sluice]:-}${TPS_ALL[$s/relay]:+ (relay: ${TPS_ALL[$s/relay]})}"
        done
        if [[ ${#FAILURES[@]} -gt 0 ]]; then
            echo
            echo "Failed runs:"
            echo
            printf -- '- %s\n' "${FAILURES[@]}"
        fi
        if [[ ${#NOTES[@]} -gt 0 ]]; then
            echo
            printf -- '- Note: %s\n' "${NOTES[@]}"
        fi
    } >>"$DOC"
    log "appended the result to $(realpath --relative-to="$REPO" "$DOC" 2>/dev/null || echo "$DOC")"
fi

[[ ${#FAILURES[@]} == 0 ]] || exit 1
exit 0
