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

# Secrets: strong random values made on first start, kept in $SECRETS_DIR (0600, outside git) and reused.
# Certificates of the local broker's TLS listener: $TLS_DIR (scripts/infra.sh makes them with openssl).
SECRETS_DIR="${PORTAL_SECRETS_DIR:-$RUN_DIR/secrets}"
TLS_DIR="${PORTAL_TLS_DIR:-$RUN_DIR/tls}"
export PORTAL_SECRETS_DIR="$SECRETS_DIR"
# Kafka principals (shared/kafka_security.py's table) and PostgreSQL roles (shared/db_roles.py), one secret each.
KAFKA_PRINCIPALS=(broker operator billing bank helpdesk contract-admin licensing portal)
PG_ROLES=(postgres portal_gateway)
for s in "${SERVICES[@]}"; do
  KAFKA_PRINCIPALS+=("projector-$s" "api-$s"); PG_ROLES+=("portal_$s" "portal_${s}_reader")
done

secret_file() {  # name -> path of its secret file, made (32 random bytes, hex) when absent
  local file="$SECRETS_DIR/$1"
  if [ ! -s "$file" ]; then
    mkdir -p "$SECRETS_DIR"; chmod 700 "$SECRETS_DIR"
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file.tmp" && mv "$file.tmp" "$file")
  fi
  printf %s "$file"
}

ensure_secrets() {
  local name
  for name in internal_token gateway_secret_key; do secret_file "$name" >/dev/null; done
  for name in "${KAFKA_PRINCIPALS[@]}"; do secret_file "kafka-$name" >/dev/null; done
  for name in "${PG_ROLES[@]}"; do secret_file "pg-$name" >/dev/null; done
}
ensure_secrets

# What `scripts/stack.sh env` exports for a shell, and whose they are. A shell that took another stack's (another
# checkout, other PORTAL_*_PORT values) would point this stack's scripts and tests at that stack's broker, CA and
# secrets: those settings are dropped here, with a note. Settings exported without the mark (an external broker or
# database) are kept as they are.
STACK_ENV_VARS=(KAFKA_BOOTSTRAP_SERVERS KAFKA_SECURITY_PROTOCOL KAFKA_SSL_CAFILE KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD_FILE
  DATABASE_URL INTERNAL_TOKEN_FILE GATEWAY_SECRET_KEY_FILE CONTRACTS_URL LEDGER_URL TICKETS_URL QUOTA_URL)
STACK_ID="$RUN_DIR kafka:$KAFKA_PORT postgres:$PG_PORT gateway:$GATEWAY_PORT"
if [ -n "${PORTAL_ENV_STACK:-}" ] && [ "$PORTAL_ENV_STACK" != "$STACK_ID" ]; then
  printf '==> Ignoring the settings exported for another stack (%s); using this one'"'"'s (%s)\n' \
    "$PORTAL_ENV_STACK" "$STACK_ID" >&2
  unset "${STACK_ENV_VARS[@]}"
fi
export PORTAL_ENV_STACK="$STACK_ID"

export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
# The scripts, the CLIs and the tests' own clients act as the operator principal and the database superuser;
# each service process gets its own principal and role instead (scripts/stack.sh: identity_env).
export KAFKA_SECURITY_PROTOCOL="${KAFKA_SECURITY_PROTOCOL:-SASL_SSL}"
export KAFKA_SSL_CAFILE="${KAFKA_SSL_CAFILE:-$TLS_DIR/ca.pem}"
export KAFKA_SASL_USERNAME="${KAFKA_SASL_USERNAME:-operator}"
[ -n "${KAFKA_SASL_PASSWORD:-}" ] || export KAFKA_SASL_PASSWORD_FILE="${KAFKA_SASL_PASSWORD_FILE:-$SECRETS_DIR/kafka-operator}"
PG_SERVER_URL="postgresql://127.0.0.1:$PG_PORT/postgres"  # no credentials: each process adds its role's
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres:$(cat "$SECRETS_DIR/pg-postgres")@127.0.0.1:$PG_PORT/postgres}"
[ -n "${INTERNAL_TOKEN:-}" ] || export INTERNAL_TOKEN_FILE="${INTERNAL_TOKEN_FILE:-$SECRETS_DIR/internal_token}"
[ -n "${GATEWAY_SECRET_KEY:-}" ] || export GATEWAY_SECRET_KEY_FILE="${GATEWAY_SECRET_KEY_FILE:-$SECRETS_DIR/gateway_secret_key}"
export CONTRACTS_URL="${CONTRACTS_URL:-http://127.0.0.1:${SERVICE_PORT[contracts]}}"
export LEDGER_URL="${LEDGER_URL:-http://127.0.0.1:${SERVICE_PORT[ledger]}}"
export TICKETS_URL="${TICKETS_URL:-http://127.0.0.1:${SERVICE_PORT[tickets]}}"
export QUOTA_URL="${QUOTA_URL:-http://127.0.0.1:${SERVICE_PORT[quota]}}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then su "$PG_OWNER" -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

identity_env() {  # kafka-principal pg-role: the env assignments of one service process (for `env`)
  printf '%s\n' "KAFKA_SASL_USERNAME=$1" "KAFKA_SASL_PASSWORD_FILE=$SECRETS_DIR/kafka-$1" \
    "DATABASE_URL=$PG_SERVER_URL" "DATABASE_USER=$2" "DATABASE_PASSWORD_FILE=$SECRETS_DIR/pg-$2"
}

make_tls() {  # a CA and the broker's key and certificate (127.0.0.1, localhost), PEM, in $TLS_DIR
  [ -s "$TLS_DIR/broker.pem" ] && [ -s "$TLS_DIR/ca.pem" ] && return
  say "Making a CA and the broker's TLS certificate in $TLS_DIR"
  mkdir -p "$TLS_DIR"; chmod 700 "$TLS_DIR"
  (
    umask 077; cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.pem \
      -subj "/CN=customer-portal local CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile broker.ext \
      -out broker.crt 2>/dev/null
    cat broker.key broker.crt ca.pem > broker.pem
    rm -f broker.csr broker.ext
    chmod 644 ca.pem
  )
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_http() {  # url seconds
  local url="$1" limit="$2" i=0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -ge $((limit * 5)) ] && return 1; sleep 0.2
  done
}
