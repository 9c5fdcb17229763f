#!/usr/bin/env bash
# The Docker secrets of docker-compose.yml: one file per secret under .secrets/ (gitignored), 32 random bytes
# each as hex, mode 0600; an existing file is kept (rotating one = deleting it, rerunning, restarting).
# pg-<role>: the password of each service's PostgreSQL role (shared/db_roles.py), set by compose's init.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.secrets"
mkdir -p "$dir"; chmod 700 "$dir"
names=(internal_token gateway_secret_key postgres_password pg-portal_gateway)
for service in contracts ledger tickets quota; do names+=("pg-portal_$service" "pg-portal_${service}_reader"); done
for name in "${names[@]}"; do
  [ -s "$dir/$name" ] && continue
  (umask 077; openssl rand -hex 32 > "$dir/$name")
  echo "made $dir/$name"
done
