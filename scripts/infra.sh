#!/usr/bin/env bash
# Real Apache Kafka (KRaft, one node) and a project-local PostgreSQL, without Docker.
#   scripts/infra.sh setup | up | down | status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_prerequisites() {  # the system packages (the list is in scripts/prereqs.sh)
  "$ROOT/scripts/prereqs.sh" run
}

pg_bindir() {
  local dir
  dir="$(pg_config --bindir 2>/dev/null || true)"
  [ -x "$dir/initdb" ] || dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -x "$dir/initdb" ] && echo "$dir"
}

fetch_kafka_jars() {
  [ -f "$KAFKA_JARS/.complete" ] && return
  say "Resolving Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_JARS"
  mkdir -p "$KAFKA_JARS"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_JARS" -DincludeScope=runtime
  touch "$KAFKA_JARS/.complete"
}

kafka_up() {
  local dir="$RUN_DIR/kafka" pidfile="$RUN_DIR/pids/kafka.pid"
  mkdir -p "$dir" "$RUN_DIR/pids" "$RUN_DIR/logs"
  pid_alive "$pidfile" && return
  sed -e "s#@DATA@#$dir/data#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CPORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$ROOT/scripts/kafka/server.properties" > "$dir/server.properties"
  if [ ! -f "$dir/data/meta.properties" ]; then
    java -cp "$KAFKA_JARS/*" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$(java -cp "$KAFKA_JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
      -c "$dir/server.properties" >> "$RUN_DIR/logs/kafka.log" 2>&1
  fi
  say "Starting Kafka on 127.0.0.1:$KAFKA_PORT (log: $RUN_DIR/logs/kafka.log)"
  nohup java -Xms256m -Xmx${PORTAL_KAFKA_HEAP:-768m} -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
    -cp "$KAFKA_JARS/*" kafka.Kafka "$dir/server.properties" >> "$RUN_DIR/logs/kafka.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

pg_up() {
  local bindir; bindir="$(pg_bindir)"
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    say "Creating a PostgreSQL cluster in $PGDATA_DIR (owner $PG_OWNER)"
    mkdir -p "$PG_HOME"; [ "$(id -u)" = 0 ] && chown "$PG_OWNER" "$PG_HOME"
    as_pg_owner "'$bindir/initdb' -D '$PGDATA_DIR' -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null"
  fi
  if ! as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' status >/dev/null 2>&1"; then
    say "Starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $PG_HOME/postgres.log)"
    as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' -l '$PG_HOME/postgres.log' -w -t 60 \
      -o \"-p $PG_PORT -k '$PG_HOME' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${PORTAL_PG_FSYNC:-on}\" start >/dev/null" \
      || die "PostgreSQL did not start; see $PG_HOME/postgres.log"
  fi
}

wait_kafka() {
  "$PY" -m shared.cli.admin wait-kafka --timeout "${PORTAL_KAFKA_TIMEOUT:-90}" >/dev/null \
    || die "Kafka did not answer at $KAFKA_BOOTSTRAP_SERVERS; see $RUN_DIR/logs/kafka.log"
}

up() {
  check_prerequisites
  fetch_kafka_jars
  pg_up
  kafka_up
  wait_kafka
  "$PY" -m shared.cli.admin create-topics
  "$PY" -m shared.cli.admin create-databases "${SERVICES[@]}" gateway
}

down() {
  local pidfile="$RUN_DIR/pids/kafka.pid" bindir
  if pid_alive "$pidfile"; then
    say "Stopping Kafka"
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 100); do pid_alive "$pidfile" || break; sleep 0.2; done
    pid_alive "$pidfile" && kill -9 "$(cat "$pidfile")"
  fi
  rm -f "$pidfile"
  bindir="$(pg_bindir || true)"
  if [ -n "$bindir" ] && [ -f "$PGDATA_DIR/PG_VERSION" ] && as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' status >/dev/null 2>&1"; then
    say "Stopping PostgreSQL"
    as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' -m fast stop >/dev/null"
  fi
}

status() {
  pid_alive "$RUN_DIR/pids/kafka.pid" && echo "kafka: up ($KAFKA_BOOTSTRAP_SERVERS)" || echo "kafka: down"
  local bindir; bindir="$(pg_bindir || true)"
  [ -n "$bindir" ] && as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' status >/dev/null 2>&1" \
    && echo "postgresql: up (127.0.0.1:$PG_PORT, data $PGDATA_DIR)" || echo "postgresql: down"
}

case "${1:-}" in
  setup) check_prerequisites; fetch_kafka_jars ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 setup|up|down|status" >&2; exit 2 ;;
esac
