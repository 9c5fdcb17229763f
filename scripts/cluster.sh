#!/usr/bin/env bash
# A local three-broker Apache Kafka cluster (KRaft, every node broker + controller, a three-voter quorum),
# replication factor 3 and min.insync.replicas=2: the production topology, on one machine, without Docker.
#   scripts/cluster.sh up | down | status | bootstrap
#   scripts/cluster.sh start N | stop N | kill N      one node (1..3): start, SIGTERM (controlled), SIGKILL
# Ports: brokers on PORTAL_CLUSTER_BASE_PORT (29092) .. +2, controllers on +3 .. +5, all on 127.0.0.1.
# The jars are the ones scripts/infra.sh resolves; data and logs under .run/cluster/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_PORT="${PORTAL_CLUSTER_BASE_PORT:-29092}"
NODES=(1 2 3)
DIR="$RUN_DIR/cluster"
broker_port() { echo $((BASE_PORT + $1 - 1)); }
controller_port() { echo $((BASE_PORT + 2 + $1)); }
pidfile() { echo "$DIR/pids/node-$1.pid"; }
node_alive() {  # the pid file's process runs and is this node's broker (a pid can be reused by another process)
  local file; file="$(pidfile "$1")"
  pid_alive "$file" && [[ "$(tr '\0' ' ' < "/proc/$(cat "$file")/cmdline" 2>/dev/null)" == *"/cluster/node-$1/server.properties"* ]]
}
BOOTSTRAP="$(for n in "${NODES[@]}"; do printf '127.0.0.1:%s,' "$(broker_port "$n")"; done)"
BOOTSTRAP="${BOOTSTRAP%,}"

node_start() {
  local n="$1" dir="$DIR/node-$1" voters=""
  node_alive "$n" && return
  ports_free "$n"
  mkdir -p "$dir" "$DIR/pids" "$DIR/logs"
  for m in "${NODES[@]}"; do voters+="$m@127.0.0.1:$(controller_port "$m"),"; done
  make_tls
  (umask 077; sed -e "s#@DATA@#$dir/data#" -e "s#@NODE@#$n#" -e "s#@VOTERS@#${voters%,}#" \
    -e "s#@PORT@#$(broker_port "$n")#g" -e "s#@CPORT@#$(controller_port "$n")#g" \
    -e "s#@TLS@#$TLS_DIR#g" -e "s#@BROKER_PASSWORD@#$(cat "$SECRETS_DIR/kafka-broker")#g" \
    "$ROOT/scripts/kafka/cluster.properties" > "$dir/server.properties")
  if [ ! -f "$dir/data/meta.properties" ]; then  # every node formatted with the one cluster id
    [ -f "$DIR/cluster-id" ] || java -cp "$KAFKA_JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 > "$DIR/cluster-id"
    java -cp "$KAFKA_JARS/*" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$(cat "$DIR/cluster-id")" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=broker,password=$(cat "$SECRETS_DIR/kafka-broker")]" \
      --add-scram "SCRAM-SHA-512=[name=operator,password=$(cat "$SECRETS_DIR/kafka-operator")]" \
      >> "$DIR/logs/node-$n.log" 2>&1 || die "formatting node $n failed; see $DIR/logs/node-$n.log"
  fi
  say "Starting Kafka node $n on 127.0.0.1:$(broker_port "$n") (controller :$(controller_port "$n"); log: $DIR/logs/node-$n.log)"
  nohup java -Xms256m -Xmx${PORTAL_KAFKA_HEAP:-512m} -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
    -cp "$KAFKA_JARS/*" kafka.Kafka "$dir/server.properties" >> "$DIR/logs/node-$n.log" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$n")"
}

ports_free() {  # n: its ports are not taken by another process (a node of another stack, or one left behind)
  local port
  for port in "$(broker_port "$1")" "$(controller_port "$1")"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port of node $1 is taken by another process (ss -ltnp 'sport = :$port')"
    fi
  done
}

node_stop() {  # n signal
  local n="$1" signal="$2" file; file="$(pidfile "$1")"
  node_alive "$n" || { rm -f "$file"; return; }
  kill "-$signal" "$(cat "$file")"
  for _ in $(seq 1 300); do node_alive "$n" || break; sleep 0.2; done
  node_alive "$n" && kill -9 "$(cat "$file")"
  rm -f "$file"
}

wait_cluster() {  # every node registered and every partition's ISR full
  KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP" "$PY" -m shared.cli.cluster wait --brokers "${#NODES[@]}" \
    --timeout "${PORTAL_KAFKA_TIMEOUT:-180}" && return
  for n in "${NODES[@]}"; do node_stop "$n" KILL; done  # no half cluster left behind to hold the ports
  die "the cluster did not come up (its nodes are stopped again); see $DIR/logs/"
}

secured() {  # this stack's secrets: the stamp the nodes' data dirs were formatted with
  cat "$SECRETS_DIR/kafka-broker" "$SECRETS_DIR/kafka-operator" | sha256sum | cut -c1-16
}

up() {
  "$ROOT/scripts/infra.sh" setup
  # Data dirs formatted without this stack's SCRAM credentials (an older plaintext cluster, other secrets) are
  # recreated: the cluster holds test and development data only.
  if [ -d "$DIR" ] && [ "$(cat "$DIR/.secured" 2>/dev/null)" != "$(secured)" ]; then
    for n in "${NODES[@]}"; do node_stop "$n" KILL; done
    say "Recreating the cluster's data dirs in $DIR: they were made without this stack's TLS/SASL credentials"
    rm -rf "$DIR/node-1" "$DIR/node-2" "$DIR/node-3" "$DIR/cluster-id"
  fi
  mkdir -p "$DIR"; secured > "$DIR/.secured"
  for n in "${NODES[@]}"; do node_alive "$n" || ports_free "$n"; done  # all checked before any node starts
  for n in "${NODES[@]}"; do node_start "$n"; done
  wait_cluster
  # the principals' SCRAM credentials and ACLs (shared/kafka_security.py), then the topics
  KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP" "$PY" -m shared.cli.secure kafka --secrets "$SECRETS_DIR" >/dev/null
  KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP" TOPIC_REPLICATION_FACTOR=3 "$PY" -m shared.cli.admin create-topics
  say "Kafka cluster up: KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP"
}

case "${1:-}" in
  up) up ;;
  down) # all at once: stopped one by one, the last node would wait for a controller quorum that is gone
        for n in "${NODES[@]}"; do node_alive "$n" && say "Stopping Kafka node $n"; node_stop "$n" TERM & done
        wait ;;
  start) node_start "${2:?node 1..3}" ;;
  stop) node_stop "${2:?node 1..3}" TERM ;;
  kill) node_stop "${2:?node 1..3}" KILL ;;
  bootstrap) echo "$BOOTSTRAP" ;;
  status) for n in "${NODES[@]}"; do
            node_alive "$n" && echo "node $n: up (127.0.0.1:$(broker_port "$n"), pid $(cat "$(pidfile "$n")"))" || echo "node $n: down"
          done
          KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP" "$PY" -m shared.cli.cluster status || true ;;
  *) echo "usage: $0 up|down|status|bootstrap|start N|stop N|kill N" >&2; exit 2 ;;
esac
