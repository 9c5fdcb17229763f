#!/usr/bin/env bash
# Real Apache Kafka (KRaft, one node) and a project-local PostgreSQL, without Docker.
#   scripts/infra.sh setup | up | down | restart-kafka | status
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
  local dir="$RUN_DIR/kafka" pidfile="$RUN_DIR/pids/kafka.pid" dev="" stamp
  mkdir -p "$dir" "$RUN_DIR/pids" "$RUN_DIR/logs"
  pid_alive "$pidfile" && return
  make_tls
  [ -n "${PORTAL_KAFKA_DEV_PLAINTEXT_PORT:-}" ] && dev=",DEV_PLAINTEXT://127.0.0.1:$PORTAL_KAFKA_DEV_PLAINTEXT_PORT"
  (umask 077; sed -e "s#@DATA@#$dir/data#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CPORT@#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#@DEV_LISTENER@#$dev#g" -e "s#@TLS@#$TLS_DIR#g" -e "s#@BROKER_PASSWORD@#$(cat "$SECRETS_DIR/kafka-broker")#g" \
    "$ROOT/scripts/kafka/server.properties" > "$dir/server.properties")
  # The data dir is formatted with the SCRAM credentials of the broker and the operator (the operator then
  # upserts every other principal's through the admin API). A data dir formatted otherwise (an older plaintext
  # broker, or other secrets) is recreated: its events are development data.
  stamp="$(cat "$SECRETS_DIR/kafka-broker" "$SECRETS_DIR/kafka-operator" | sha256sum | cut -c1-16)"
  if [ -f "$dir/data/meta.properties" ] && [ "$(cat "$dir/data/.secured" 2>/dev/null)" != "$stamp" ]; then
    say "Recreating the Kafka data dir $dir/data: it was made without this stack's TLS/SASL credentials"
    rm -rf "$dir/data" "$dir/demo-loaded"
  fi
  if [ ! -f "$dir/data/meta.properties" ]; then
    java -cp "$KAFKA_JARS/*" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$(java -cp "$KAFKA_JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
      -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=broker,password=$(cat "$SECRETS_DIR/kafka-broker")]" \
      --add-scram "SCRAM-SHA-512=[name=operator,password=$(cat "$SECRETS_DIR/kafka-operator")]" \
      >> "$RUN_DIR/logs/kafka.log" 2>&1 || die "formatting the Kafka data dir failed; see $RUN_DIR/logs/kafka.log"
    printf %s "$stamp" > "$dir/data/.secured"
  fi
  say "Starting Kafka on 127.0.0.1:$KAFKA_PORT, SASL_SSL (log: $RUN_DIR/logs/kafka.log)"
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
  # Rewritten at every start (an older cluster made with `-A trust` is upgraded in place): the Unix socket,
  # whose directory and socket only the cluster's OS owner may open, trusts the local superuser for these
  # scripts; TCP on loopback needs a role's scram-sha-256 password.
  as_pg_owner "cat > '$PGDATA_DIR/pg_hba.conf'" <<'HBA'
# Written by scripts/infra.sh at every start (docs/security.md).
local   all   all                   trust
host    all   all   127.0.0.1/32    scram-sha-256
host    all   all   ::1/128         scram-sha-256
HBA
  if ! as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' status >/dev/null 2>&1"; then
    say "Starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $PG_HOME/postgres.log)"
    # After a crash (the fault tests stop it with -m immediate) the server first syncs its data directory:
    # file by file that took over a minute on a loaded machine with the tests' many databases, so it
    # syncs the file system at once (syncfs), and pg_ctl waits up to 3 minutes for the recovery.
    as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' -l '$PG_HOME/postgres.log' -w -t 180 \
      -o \"-p $PG_PORT -k '$PG_HOME' -c unix_socket_permissions=0700 -c password_encryption=scram-sha-256 -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${PORTAL_PG_FSYNC:-on}$(pg_sync_option "$bindir")\" start >/dev/null" \
      || die "PostgreSQL did not start; see $PG_HOME/postgres.log"
  else
    as_pg_owner "'$bindir/pg_ctl' -D '$PGDATA_DIR' reload >/dev/null"
  fi
}

pg_sync_option() {  # bindir: the crash-recovery sync setting, on servers that have it (14 and later)
  local major; major="$("$1/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')"
  [ "${major:-0}" -ge 14 ] && printf ' -c recovery_init_sync_method=syncfs'
  true
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
  # the roles (passwords from $SECRETS_DIR), one database per service owned by its role, read-only roles
  "$PY" -m shared.cli.secure postgres --socket-dir "$PG_HOME" --port "$PG_PORT" --secrets "$SECRETS_DIR" \
    "${SERVICES[@]}" gateway
  # the principals' SCRAM credentials and ACLs (shared/kafka_security.py), then the topics
  "$PY" -m shared.cli.secure kafka --secrets "$SECRETS_DIR"
  "$PY" -m shared.cli.admin create-topics
}

kafka_down() {
  local pidfile="$RUN_DIR/pids/kafka.pid"
  if pid_alive "$pidfile"; then
    say "Stopping Kafka"
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 100); do pid_alive "$pidfile" || break; sleep 0.2; done
    pid_alive "$pidfile" && kill -9 "$(cat "$pidfile")"
  fi
  rm -f "$pidfile"
}

down() {
  local bindir
  kafka_down
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
  # the broker again with this environment's listeners (bench.security adds the dev-only plaintext one)
  restart-kafka) fetch_kafka_jars; kafka_down; kafka_up; wait_kafka ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 setup|up|down|restart-kafka|status" >&2; exit 2 ;;
esac
