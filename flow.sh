#!/usr/bin/env bash
# flow.sh — run Flow on this machine and test it. Everything listens on 127.0.0.1 only.
#
#   ./flow.sh start   Azurite (pinned npm package, data in ./.flow/azurite) + the Flow app on http://127.0.0.1:7071,
#                     with the sample flows and samples/flow.yaml's deployments; also builds the CLI (src/Flow.Cli)
#   ./flow.sh test    the whole test suite (private Azurite and PostgreSQL per test assembly, free ports)
#
# Environment (all optional):
#   FLOW_PORT                 Flow's HTTP port (7071)
#   FLOW_AZURITE_BLOB_PORT    Azurite ports (10000, 10001, 10002); when any differs from the default,
#   FLOW_AZURITE_QUEUE_PORT   AzureWebJobsStorage gets the explicit connection string instead of
#   FLOW_AZURITE_TABLE_PORT   UseDevelopmentStorage=true
#   FLOW_AZURITE_LOCATION     Azurite's data folder (./.flow/azurite)
#   FLOW_CONFIGURATION        build configuration (Release)
#   FLOW_NO_BUILD=1           start: run the already-built app instead of building it first
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

CONFIGURATION="${FLOW_CONFIGURATION:-Release}"
FLOW_PORT="${FLOW_PORT:-7071}"
BLOB_PORT="${FLOW_AZURITE_BLOB_PORT:-10000}"
QUEUE_PORT="${FLOW_AZURITE_QUEUE_PORT:-10001}"
TABLE_PORT="${FLOW_AZURITE_TABLE_PORT:-10002}"
AZURITE_LOCATION="${FLOW_AZURITE_LOCATION:-$ROOT/.flow/azurite}"
AZURITE_JS="node_modules/azurite/dist/src/azurite.js"
STARTUP_SECONDS=30

AZURITE_PID=""
APP_PID=""

log() { printf 'flow.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH. $2"
}

ensure_node_modules() {
  need node "Install Node.js 20 or later."
  if [[ ! -f "$AZURITE_JS" ]]; then
    need npm "Install npm (it comes with Node.js)."
    log "node_modules/azurite is missing: running npm ci"
    npm ci --no-audit --no-fund
  fi
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

alive() {
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null
}

# Stops the app and Azurite (SIGTERM, then SIGKILL after 10 s) and waits until both are gone.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "$APP_PID" "$AZURITE_PID"; do
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  local deadline=$((SECONDS + 10))
  while { alive "$APP_PID" || alive "$AZURITE_PID"; } && ((SECONDS < deadline)); do
    sleep 0.1
  done
  for pid in "$APP_PID" "$AZURITE_PID"; do
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
  done
  if [[ -n "$AZURITE_PID" ]]; then
    log "stopped Flow and Azurite (exit $status)"
  fi
  exit "$status"
}

cmd_start() {
  need dotnet "Install the .NET 10 SDK."
  ensure_node_modules
  local port
  for port in "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT" "$FLOW_PORT"; do
    if port_open "$port"; then
      die "127.0.0.1:$port is already in use. Stop what uses it or choose other ports (FLOW_PORT, FLOW_AZURITE_BLOB_PORT, FLOW_AZURITE_QUEUE_PORT, FLOW_AZURITE_TABLE_PORT)."
    fi
  done

  local dll="functions/bin/$CONFIGURATION/net10.0/Flow.Functions.dll"
  if [[ "${FLOW_NO_BUILD:-}" != "1" ]]; then
    log "building Flow.Functions ($CONFIGURATION)"
    dotnet build functions/Flow.Functions.csproj -c "$CONFIGURATION" --nologo -v quiet
    log "building the flow CLI ($CONFIGURATION): src/Flow.Cli/bin/$CONFIGURATION/net10.0/flow"
    dotnet build src/Flow.Cli/Flow.Cli.csproj -c "$CONFIGURATION" --nologo -v quiet
    log "building the sample flows ($CONFIGURATION): samples/Flow.Samples, loaded through Flow__App__FlowAssemblies__0"
    dotnet build samples/Flow.Samples/Flow.Samples.csproj -c "$CONFIGURATION" --nologo -v quiet
  fi
  local samples="$ROOT/samples/Flow.Samples/bin/$CONFIGURATION/net10.0/Flow.Samples.dll"
  [[ -f "$dll" ]] || die "$dll is missing: build it with dotnet build functions/Flow.Functions.csproj -c $CONFIGURATION"

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "started (pid $$)"

  mkdir -p "$AZURITE_LOCATION"
  node "$AZURITE_JS" --location "$AZURITE_LOCATION" --silent --skipApiVersionCheck --disableProductStyleUrl --disableTelemetry \
    --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" \
    --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
    --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" \
    >"$AZURITE_LOCATION/azurite.log" 2>&1 </dev/null &
  AZURITE_PID=$!
  log "azurite pid $AZURITE_PID (blob $BLOB_PORT, queue $QUEUE_PORT, table $TABLE_PORT; data in $AZURITE_LOCATION)"

  local deadline=$((SECONDS + STARTUP_SECONDS))
  until port_open "$BLOB_PORT" && port_open "$QUEUE_PORT" && port_open "$TABLE_PORT"; do
    if ! alive "$AZURITE_PID"; then
      cat "$AZURITE_LOCATION/azurite.log" >&2 || true
      die "Azurite exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      cat "$AZURITE_LOCATION/azurite.log" >&2 || true
      die "Azurite did not open its ports within ${STARTUP_SECONDS} s"
    fi
    sleep 0.1
  done

  local storage="UseDevelopmentStorage=true"
  if [[ "$BLOB_PORT/$QUEUE_PORT/$TABLE_PORT" != "10000/10001/10002" ]]; then
    local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$TABLE_PORT/devstoreaccount1;"
  fi

  # Local development: the sample flows (their own assembly, loaded by configuration) and their deployments file, anonymous API access from loopback only
  # (set Flow__App__ApiKey to require a key here too).
  AzureWebJobsStorage="$storage" \
    Flow__App__FlowAssemblies__0="${Flow__App__FlowAssemblies__0:-$samples}" \
    Flow__App__DeploymentsFile="${Flow__App__DeploymentsFile:-$ROOT/samples/flow.yaml}" \
    Flow__App__AllowAnonymousLoopback="${Flow__App__AllowAnonymousLoopback:-true}" \
    dotnet "$dll" --urls "http://127.0.0.1:$FLOW_PORT" </dev/null &
  APP_PID=$!
  log "flow pid $APP_PID: http://127.0.0.1:$FLOW_PORT (health: /api/health). Ctrl-C stops Flow and Azurite."

  local status=0
  wait "$APP_PID" || status=$?
  log "Flow exited with $status"
  exit "$status"
}

cmd_test() {
  need dotnet "Install the .NET 10 SDK."
  ensure_node_modules
  local output status=0 passed failed
  output="$(mktemp)"
  dotnet test Functions.sln -c "$CONFIGURATION" --logger "console;verbosity=normal" --results-directory "$ROOT/TestResults" "$@" 2>&1 \
    | tee "$output" || status=$?
  # One summary line over every test assembly, in the plain "N passed, N failed" form CI reads.
  passed=$(awk '/^[[:space:]]+Passed:[[:space:]]+[0-9]+[[:space:]]*$/ { n += $2 } END { print n + 0 }' "$output")
  failed=$(awk '/^[[:space:]]+Failed:[[:space:]]+[0-9]+[[:space:]]*$/ { n += $2 } END { print n + 0 }' "$output")
  if ((failed > 0)); then
    # Repeat each failed test with the first lines of its message, so the tail of a long log names them.
    echo "failed tests:"
    awk '/^[[:space:]]+Failed [A-Za-z_]/ { print; grab = 8; next }
         grab > 0 && /Stack Trace:/ { grab = 0 }
         grab > 0 { print; grab-- }' "$output"
  fi
  rm -f "$output"
  echo "$passed passed, $failed failed"
  if ((status == 0 && passed == 0)); then
    log "error: no test ran"
    return 1
  fi
  return "$status"
}

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  test) shift; cmd_test "$@" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
