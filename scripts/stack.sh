#!/usr/bin/env bash
# The whole system on one machine, without Docker.
#   scripts/stack.sh run     venv + Kafka + PostgreSQL + topics + services + gateway + demo data
#   scripts/stack.sh stop    stop everything it started (data is kept)
#   scripts/stack.sh reset   stop and delete all data (Kafka log, PostgreSQL cluster)
#   scripts/stack.sh test    venv + Kafka + PostgreSQL, then the whole pytest suite
#   scripts/stack.sh status
#   eval "$(scripts/stack.sh env)"   the local stack's settings, for the CLIs (publish, deadletters, ...)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

venv() {
  local stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" | md5sum | cut -c1-12)"
  [ -f "$stamp" ] && return
  say "Creating the virtualenv in $VENV and installing the project"
  command -v python3 >/dev/null || die "python3 (3.11+) is required"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e "$ROOT[test]"
  touch "$stamp"
}

start_bg() {  # name command...
  local name="$1"; shift
  local pidfile="$RUN_DIR/pids/$name.pid"
  pid_alive "$pidfile" && return
  nohup "$@" >> "$RUN_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}


services_up() {
  mkdir -p "$RUN_DIR/pids" "$RUN_DIR/logs"
  for s in "${SERVICES[@]}"; do
    start_bg "$s-projector" env PROJECTOR_METRICS_PORT="${PROJECTOR_METRICS_PORT[$s]}" "$PY" -m "services.$s.projector"
    start_bg "$s-api" "$VENV/bin/gunicorn" -c "$ROOT/ops/gunicorn/gunicorn.conf.py" --workers "${PORTAL_API_WORKERS:-2}" --threads 4 \
      --bind "127.0.0.1:${SERVICE_PORT[$s]}" "services.$s.app:create_app()"
  done
  start_bg gateway "$VENV/bin/gunicorn" -c "$ROOT/ops/gunicorn/gunicorn.conf.py" --workers "${PORTAL_GATEWAY_WORKERS:-2}" --threads 8 \
    --bind "127.0.0.1:$GATEWAY_PORT" "gateway.app:create_app()"
  for s in "${SERVICES[@]}"; do
    wait_http "http://127.0.0.1:${SERVICE_PORT[$s]}/health/live" 60 || die "$s API did not start; see $RUN_DIR/logs/$s-api.log"
  done
  wait_http "http://127.0.0.1:$GATEWAY_PORT/health/live" 60 || die "gateway did not start; see $RUN_DIR/logs/gateway.log"
}

services_down() {
  local pidfile
  for pidfile in "$RUN_DIR"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    case "$pidfile" in */kafka.pid) continue ;; esac
    pid_alive "$pidfile" && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  for pidfile in "$RUN_DIR"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    case "$pidfile" in */kafka.pid) continue ;; esac
    for _ in $(seq 1 50); do pid_alive "$pidfile" || break; sleep 0.2; done
    pid_alive "$pidfile" && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

demo() {
  local marker="$RUN_DIR/kafka/demo-loaded" out="$RUN_DIR/demo"
  if [ -f "$marker" ]; then
    say "Demo data already loaded ($(cat "$marker"))"
  else
    say "Generating and publishing the demo data set"
    "$PY" -m shared.demo --customers "${PORTAL_DEMO_CUSTOMERS:-25}" --out "$out" > "$RUN_DIR/logs/demo.log"
    for topic in contracts invoices payments support-calls license-codes; do
      "$PY" -m shared.publish --topic "$topic" "$out/$topic.jsonl"
    done
    date -u +%FT%TZ > "$marker"
  fi
  "$PY" -m shared.catchup --timeout 180 || die "projectors did not catch up; see $RUN_DIR/logs/*-projector.log"
}

banner() {
  cat <<MSG

The customer portal is running.
  Gateway (public API):   http://127.0.0.1:$GATEWAY_PORT/api/v1   (OpenAPI: /api/v1/openapi.json)
  Web portal:             http://127.0.0.1:$GATEWAY_PORT/
  System health:          http://127.0.0.1:$GATEWAY_PORT/health   (details: curl -H "X-Internal-Token: \$INTERNAL_TOKEN")
MSG
  for s in "${SERVICES[@]}"; do
    printf '  %-22s  http://127.0.0.1:%s/health/ready   metrics: /metrics   projector metrics: :%s/metrics\n' \
      "$s service:" "${SERVICE_PORT[$s]}" "${PROJECTOR_METRICS_PORT[$s]}"
  done
  printf '  Kafka: %s   PostgreSQL: %s\n  Logs: %s/logs   Stop: make stop\n\nDemo logins:\n' \
    "$KAFKA_BOOTSTRAP_SERVERS" "$DATABASE_URL" "$RUN_DIR"
  "$PY" "$ROOT/scripts/print_logins.py" "$RUN_DIR/demo/logins.json"
}

case "${1:-}" in
  run) venv; "$ROOT/scripts/infra.sh" up; services_up; demo; banner ;;
  stop) services_down; "$ROOT/scripts/infra.sh" down ;;
  reset) services_down; "$ROOT/scripts/infra.sh" down; say "Deleting $RUN_DIR and $PG_HOME"; rm -rf "$RUN_DIR" "$PG_HOME" ;;
  services) services_up ;;
  test) shift; venv; "$ROOT/scripts/infra.sh" up; cd "$ROOT" && exec "$VENV/bin/pytest" "$@" ;;
  bench) shift; venv; "$ROOT/scripts/infra.sh" up; command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || die "wrk is required (apt-get install wrk)"; cd "$ROOT" && exec "$PY" -m bench "$@" ;;
  env) for v in KAFKA_BOOTSTRAP_SERVERS DATABASE_URL INTERNAL_TOKEN GATEWAY_SECRET_KEY CONTRACTS_URL LEDGER_URL TICKETS_URL QUOTA_URL; do
         printf 'export %s=%q\n' "$v" "${!v}"; done ;;
  status) "$ROOT/scripts/infra.sh" status
          for s in "${SERVICES[@]}" gateway; do pid_alive "$RUN_DIR/pids/$s-api.pid" || pid_alive "$RUN_DIR/pids/$s.pid" && echo "$s: up" || echo "$s: down"; done ;;
  *) echo "usage: $0 run|stop|reset|services|test|status|env|bench" >&2; exit 2 ;;
esac
