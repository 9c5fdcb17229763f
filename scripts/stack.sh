#!/usr/bin/env bash
# The whole system on one machine, without Docker.
# Each mode first runs scripts/prereqs.sh, which installs the system packages the machine lacks.
#   scripts/stack.sh run     venv + Kafka + PostgreSQL + topics + services + gateway + Prometheus + demo data
#   scripts/stack.sh stop    stop everything it started, Prometheus included (data is kept)
#   scripts/stack.sh reset   stop and delete all data (Kafka log, PostgreSQL cluster)
#   scripts/stack.sh test    venv + Kafka + PostgreSQL, then the whole pytest suite
#   scripts/stack.sh status
#   scripts/stack.sh cluster up|down|status   the three-broker Kafka cluster (scripts/cluster.sh), with the venv
#   eval "$(scripts/stack.sh env)"   the local stack's settings, for the CLIs (publish, deadletters, ...)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

venv() {
  local stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | md5sum | cut -c1-12)"
  [ -f "$stamp" ] && return
  say "Creating the virtualenv in $VENV and installing the project"
  command -v python3 >/dev/null || die "python3 (3.11+) is required"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  # constraints.txt pins every package to the versions tested (scripts/lock.sh re-resolves it)
  "$PY" -m pip install -q -c "$ROOT/constraints.txt" -e "$ROOT[test]"
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
  local identity
  for s in "${SERVICES[@]}"; do
    # each process its own Kafka principal and PostgreSQL role (docs/security.md), never the operator's
    mapfile -t identity < <(identity_env "projector-$s" "portal_$s")
    start_bg "$s-projector" env "${identity[@]}" PROJECTOR_METRICS_PORT="${PROJECTOR_METRICS_PORT[$s]}" "$PY" -m "services.$s.projector"
    # shared/web/serve.py: Granian, JSON log lines from it too; metrics of every worker in one scrape
    mapfile -t identity < <(identity_env "api-$s" "portal_${s}_reader")
    start_bg "$s-api" env "${identity[@]}" PROMETHEUS_MULTIPROC_DIR="$RUN_DIR/metrics/$s-api" "$PY" -m shared.web.serve \
      --workers "${PORTAL_API_WORKERS:-2}" --threads 4 --bind "127.0.0.1:${SERVICE_PORT[$s]}" "services.$s.app:create_app()"
  done
  # the gateway, the internet's door, under gunicorn (shared/web/gunicorn_conf.py; docs/decisions.md)
  mapfile -t identity < <(identity_env portal portal_gateway)
  start_bg gateway env "${identity[@]}" PROMETHEUS_MULTIPROC_DIR="$RUN_DIR/metrics/gateway" "$VENV/bin/gunicorn" \
    -c python:shared.web.gunicorn_conf --workers "${PORTAL_GATEWAY_WORKERS:-2}" --threads 8 \
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

prometheus_up() {  # Debian's prometheus, scraping every process above, with the alert rules loaded
  command -v prometheus >/dev/null || die "prometheus is required (apt-get install prometheus)"
  local dir="$RUN_DIR/prometheus" args=()
  mkdir -p "$dir/data"
  for s in "${SERVICES[@]}"; do
    args+=(--service "$s=127.0.0.1:${SERVICE_PORT[$s]}" --projector "$s=127.0.0.1:${PROJECTOR_METRICS_PORT[$s]}")
  done
  (umask 077; cp "${INTERNAL_TOKEN_FILE:-/dev/null}" "$dir/internal_token"; [ -z "${INTERNAL_TOKEN:-}" ] || printf %s "$INTERNAL_TOKEN" > "$dir/internal_token")  # the gateway's /metrics is for operators
  "$PY" "$ROOT/scripts/prometheus_config.py" --gateway "127.0.0.1:$GATEWAY_PORT" --token-file "$dir/internal_token" \
    "${args[@]}" > "$dir/prometheus.yml"
  promtool check config "$dir/prometheus.yml" >/dev/null || die "the generated $dir/prometheus.yml is invalid"
  if ! pid_alive "$RUN_DIR/pids/prometheus.pid" && curl -fsS -o /dev/null "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 2>/dev/null; then
    # e.g. Debian's own prometheus.service, started by the package on a machine with systemd
    die "another process already answers on 127.0.0.1:$PROMETHEUS_PORT; stop it or set PORTAL_PROMETHEUS_PORT"
  fi
  start_bg prometheus prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=7d --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
  wait_http "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 60 && pid_alive "$RUN_DIR/pids/prometheus.pid" \
    || die "prometheus did not start; see $RUN_DIR/logs/prometheus.log"
}

demo() {
  local marker="$RUN_DIR/kafka/demo-loaded" out="$RUN_DIR/demo"
  if [ -f "$marker" ]; then
    say "Demo data already loaded ($(cat "$marker"))"
  else
    say "Generating and publishing the demo data set"
    "$PY" -m demo --customers "${PORTAL_DEMO_CUSTOMERS:-25}" --out "$out" > "$RUN_DIR/logs/demo.log"
    # each topic as the system that produces it (shared/kafka_security.py), its password from a file
    declare -A producer=([contracts]=contract-admin [invoices]=billing [payments]=bank [support-calls]=helpdesk [license-codes]=licensing)
    for topic in contracts invoices payments support-calls license-codes; do
      "$PY" -m shared.cli.publish --topic "$topic" --principal "${producer[$topic]}" \
        --password-file "$SECRETS_DIR/kafka-${producer[$topic]}" "$out/$topic.jsonl"
    done
    date -u +%FT%TZ > "$marker"
  fi
  "$PY" -m shared.cli.catchup --timeout 180 --progress || die "projectors did not catch up; see $RUN_DIR/logs/*-projector.log"
}

banner() {
  cat <<MSG

The customer portal is running.
  Gateway (public API):   http://127.0.0.1:$GATEWAY_PORT/api/v1   (OpenAPI: /api/v1/openapi.json)
  Web portal:             http://127.0.0.1:$GATEWAY_PORT/
  System health:          http://127.0.0.1:$GATEWAY_PORT/health   (details: curl -H "X-Internal-Token: \$(cat $SECRETS_DIR/internal_token)")
  Prometheus:             http://127.0.0.1:$PROMETHEUS_PORT/alerts   targets: /targets
MSG
  for s in "${SERVICES[@]}"; do
    printf '  %-22s  http://127.0.0.1:%s/health/ready   metrics: /metrics   projector metrics: :%s/metrics\n' \
      "$s service:" "${SERVICE_PORT[$s]}" "${PROJECTOR_METRICS_PORT[$s]}"
  done
  printf '  Kafka: %s (SASL_SSL, CA %s)   PostgreSQL: %s\n  Secrets: %s   Logs: %s/logs   Stop: make stop\n\nDemo logins:\n' \
    "$KAFKA_BOOTSTRAP_SERVERS" "$KAFKA_SSL_CAFILE" "$PG_SERVER_URL" "$SECRETS_DIR" "$RUN_DIR"
  "$PY" "$ROOT/scripts/print_logins.py" "$RUN_DIR/demo/logins.json"
}

case "${1:-}" in
  run) "$ROOT/scripts/prereqs.sh" run; venv; "$ROOT/scripts/infra.sh" up; services_up; prometheus_up; demo; banner ;;
  stop) services_down; "$ROOT/scripts/infra.sh" down ;;
  reset) services_down; "$ROOT/scripts/infra.sh" down; say "Deleting $RUN_DIR and $PG_HOME"; rm -rf "$RUN_DIR" "$PG_HOME" ;;
  services) services_up; prometheus_up ;;
  test) shift; "$ROOT/scripts/prereqs.sh" test; venv; "$ROOT/scripts/infra.sh" up; cd "$ROOT" && exec "$VENV/bin/pytest" "$@" ;;
  bench-security) shift; "$ROOT/scripts/prereqs.sh" bench; venv; "$ROOT/scripts/infra.sh" up; cd "$ROOT" && exec "$PY" -m bench.security "$@" ;;
  cluster) shift; "$ROOT/scripts/prereqs.sh" test; venv; exec "$ROOT/scripts/cluster.sh" "$@" ;;
  bench) shift; "$ROOT/scripts/prereqs.sh" bench; venv; "$ROOT/scripts/infra.sh" up; cd "$ROOT" && exec "$PY" -m bench "$@" ;;
  env) for v in "${STACK_ENV_VARS[@]}" PORTAL_ENV_STACK; do  # PORTAL_ENV_STACK marks whose they are (scripts/lib.sh)
         [ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"; done; true ;;
  lint) "$ROOT/scripts/prereqs.sh" test; venv; cd "$ROOT"
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        "$VENV/bin/mypy"
        promtool check config --syntax-only ops/prometheus/prometheus.yml  # compose mounts the token file
        promtool test rules ops/prometheus/alerts_test.yml
        "$PY" scripts/check_dashboards.py
        "$PY" scripts/check_compose.py
        scripts/lint_openapi.sh ;;
  status) "$ROOT/scripts/infra.sh" status
          for s in "${SERVICES[@]}" gateway prometheus; do pid_alive "$RUN_DIR/pids/$s-api.pid" || pid_alive "$RUN_DIR/pids/$s.pid" && echo "$s: up" || echo "$s: down"; done ;;
  *) echo "usage: $0 run|stop|reset|services|test|lint|status|env|bench|bench-security|cluster" >&2; exit 2 ;;
esac
