#!/usr/bin/env bash
# The fixed analytics job in shell: each task runs in the foreground and its psql session ends with it
# (psql sends Terminate on exit). `sluice audit` passes it:
#   sluice audit -- examples/audit/analytics-job-fixed.sh [tasks]
set -euo pipefail
tasks=${1:-5}
export PGAPPNAME=analytics-job
for i in $(seq "$tasks"); do
  psql -X -q -o /dev/null -c "SELECT count(*) FROM pg_class;"
done
echo "analytics: processed $tasks tasks"
