#!/usr/bin/env bash
# A process-type flow in bash: the worker sets FLOW_RUN_ID, FLOW_API_URL, FLOW_RUN_TOKEN and FLOW_PARAMETERS.
# Its stdout/stderr become the run's logs anyway; this script also reports a task run and an artifact through the
# process API (docs/process-pools.md, "Any language"). The exit code decides the run: 0 Completed, anything else Failed.
set -euo pipefail

api="$FLOW_API_URL/api/process/runs/$FLOW_RUN_ID"
auth="Authorization: Bearer $FLOW_RUN_TOKEN"

echo "run $FLOW_RUN_ID, parameters: $FLOW_PARAMETERS"

started=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
count=$(ls -1 "${REPORT_DIR:-/tmp}" | wc -l)
curl -fsS -X POST "$api/tasks" -H "$auth" -H 'Content-Type: application/json' \
  -d "{\"name\":\"count-files\",\"state\":\"Completed\",\"result\":$count,\"startedAt\":\"$started\"}"

curl -fsS -X POST "$api/logs" -H "$auth" -H 'Content-Type: application/json' \
  -d "{\"lines\":[{\"message\":\"counted $count files\",\"level\":\"Information\"}]}"

curl -fsS -X POST "$api/artifacts" -H "$auth" -H 'Content-Type: application/json' \
  -d "{\"key\":\"file-count\",\"type\":\"Markdown\",\"data\":\"**$count** files in ${REPORT_DIR:-/tmp}\"}"

echo "done"
