#!/usr/bin/env bash
# bench/cpu-split.sh: where the machine's CPU goes during one pgbench run through a running proxy:
# pgbench itself, the proxy process, every PostgreSQL process, the rest, and idle, each in µs per
# transaction (from /proc/stat and /proc/PID/stat, user + system). It answers "could a faster proxy
# raise this tps at all?": when pgbench and PostgreSQL already take most of the machine per transaction,
# no proxy can multiply the throughput (docs/benchmarks.md, "Reconnect per transaction").
#
# Usage: bench/cpu-split.sh PORT PROXY_PID [pgbench options...]
#   e.g. bench/cpu-split.sh 57440 "$(pgrep -f sluice.jar)" -S -C -c 20 -T 10
# Environment: PGBENCH (default: the PostgreSQL 15 one), BENCH_USER=bench, BENCH_DB=postgres,
#   JOBS=2 (pgbench -j). Defaults to -T 10 when no -T/-t is given.
set -euo pipefail

if [[ $# -lt 2 || "$1" == -h || "$1" == --help ]]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
PORT=$1; PROXY=$2; shift 2
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
[[ -x "$PGBENCH" ]] || { echo "cpu-split: no pgbench at $PGBENCH (set PGBENCH)" >&2; exit 2; }
[[ -r /proc/$PROXY/stat ]] || { echo "cpu-split: no process $PROXY" >&2; exit 2; }
ARGS=("$@")
if [[ " ${ARGS[*]} " != *" -T "* && " ${ARGS[*]} " != *" -t "* ]]; then ARGS+=(-T 10); fi

HZ=$(getconf CLK_TCK)
# utime + stime of one process, in clock ticks (fields 14 and 15; the name in field 2 has no blanks here)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() {
    local sum=0 p
    for p in $(pgrep -x postgres || true); do sum=$((sum + $(proc_ticks "$p"))); done
    echo "$sum"
}
# all and idle (idle + iowait) ticks of the whole machine
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; }

read -r all0 idle0 < <(machine_ticks)
proxy0=$(proc_ticks "$PROXY"); pg0=$(postgres_ticks)
start=$(date +%s.%N)
out=$( { /usr/bin/time -f 'PGBENCH_CPU %U %S' "$PGBENCH" -h 127.0.0.1 -p "$PORT" -U "${BENCH_USER:-bench}" -n \
    -j "${JOBS:-2}" "${ARGS[@]}" "${BENCH_DB:-postgres}"; } 2>&1) || { echo "$out" >&2; exit 1; }
end=$(date +%s.%N)
read -r all1 idle1 < <(machine_ticks)
proxy1=$(proc_ticks "$PROXY"); pg1=$(postgres_ticks)

txns=$(awk '/number of transactions actually processed/{split($NF, a, "/"); print a[1]}' <<<"$out")
pgbench_s=$(awk '/^PGBENCH_CPU/{print $2 + $3}' <<<"$out")
[[ -n "$txns" && "$txns" -gt 0 ]] || { echo "$out" >&2; echo "cpu-split: no transactions" >&2; exit 1; }

awk -v tx="$txns" -v hz="$HZ" -v secs="$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" \
    -v all=$((all1 - all0)) -v idle=$((idle1 - idle0)) -v proxy=$((proxy1 - proxy0)) -v pg=$((pg1 - pg0)) \
    -v pgb="$pgbench_s" 'BEGIN {
    us = 1e6 / hz / tx                      # µs per transaction of one tick
    pgb_us = pgb * 1e6 / tx
    busy = (all - idle) * us
    printf "transactions %d in %.1f s: %.0f tps\n", tx, secs, tx / secs
    printf "CPU per transaction (µs): pgbench %.0f, proxy %.0f, PostgreSQL %.0f, other %.0f, idle %.0f (machine %.0f)\n",
        pgb_us, proxy * us, pg * us, busy - pgb_us - proxy * us - pg * us, idle * us, all * us
    printf "share of the machine: pgbench %.0f%%, proxy %.0f%%, PostgreSQL %.0f%%, idle %.0f%%\n",
        100 * pgb_us / (all * us), 100 * proxy / all, 100 * pg / all, 100 * idle / all
}'
