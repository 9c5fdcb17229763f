# Common settings and helpers of the stack scripts (sourced, not run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${PORTAL_RUN_DIR:-$ROOT/.run}"
CACHE_DIR="${PORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/customer-portal}"
VENV="${PORTAL_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

KAFKA_PORT="${PORTAL_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${PORTAL_KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${PORTAL_PG_PORT:-54329}"
GATEWAY_PORT="${PORTAL_GATEWAY_PORT:-8080}"
# The services listen on the four ports after the gateway's; projector metrics from PORTAL_METRICS_PORT (9101).
declare -A SERVICE_PORT=([contracts]=$((GATEWAY_PORT + 1)) [ledger]=$((GATEWAY_PORT + 2)) [tickets]=$((GATEWAY_PORT + 3)) [quota]=$((GATEWAY_PORT + 4)))
METRICS_PORT="${PORTAL_METRICS_PORT:-9101}"
declare -A PROJECTOR_METRICS_PORT=([contracts]=$METRICS_PORT [ledger]=$((METRICS_PORT + 1)) [tickets]=$((METRICS_PORT + 2)) [quota]=$((METRICS_PORT + 3)))
SERVICES=(contracts ledger tickets quota)
PROMETHEUS_PORT="${PORTAL_PROMETHEUS_PORT:-9090}"

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")"
KAFKA_JARS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"

# PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` user and
# lives where that user can write.
if [ "$(id -u)" = 0 ]; then
  PG_OWNER=postgres
  PG_HOME="${PORTAL_PG_DIR:-/var/tmp/customer-portal-$(printf %s "$ROOT" | md5sum | cut -c1-8)}"
else
  PG_OWNER="$(id -un)"
  PG_HOME="${PORTAL_PG_DIR:-$RUN_DIR/postgres}"
fi
PGDATA_DIR="$PG_HOME/data"

export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:$PG_PORT/postgres}"
export INTERNAL_TOKEN="${INTERNAL_TOKEN:-dev-internal-token-change-me}"
export GATEWAY_SECRET_KEY="${GATEWAY_SECRET_KEY:-dev-gateway-secret-change-me-0123456789}"
export CONTRACTS_URL="${CONTRACTS_URL:-http://127.0.0.1:${SERVICE_PORT[contracts]}}"
export LEDGER_URL="${LEDGER_URL:-http://127.0.0.1:${SERVICE_PORT[ledger]}}"
export TICKETS_URL="${TICKETS_URL:-http://127.0.0.1:${SERVICE_PORT[tickets]}}"
export QUOTA_URL="${QUOTA_URL:-http://127.0.0.1:${SERVICE_PORT[quota]}}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then su "$PG_OWNER" -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_http() {  # url seconds
  local url="$1" limit="$2" i=0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -ge $((limit * 5)) ] && return 1; sleep 0.2
  done
}
