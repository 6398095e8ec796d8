#!/usr/bin/env bash
# The incident's analytics job in shell: each task starts its own psql session in the background and
# never ends it, so the sessions outlive the job. `sluice audit` fails it:
#   sluice audit -- examples/audit/analytics-job-leaky.sh [tasks]
# Connection settings come from the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
set -euo pipefail
tasks=${1:-5}
hold=${LEAK_HOLD_SECONDS:-30}   # how long the leaked sessions linger after the job returns
export PGAPPNAME=analytics-job
for i in $(seq "$tasks"); do
  # the session stays open as long as its input does: `sleep` keeps it open, nobody waits for it
  { echo "SELECT count(*) FROM pg_class;"; sleep "$hold"; } | psql -X -q -o /dev/null &
done
sleep 1   # let the tasks run their query
echo "analytics: started $tasks tasks"
