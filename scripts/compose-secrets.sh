#!/usr/bin/env bash
# The Docker secrets of docker-compose.yml: one file per secret under .secrets/ (gitignored), 32 random bytes
# each as hex, mode 0600; an existing file is kept (rotating one = deleting it, rerunning, restarting).
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.secrets"
mkdir -p "$dir"; chmod 700 "$dir"
for name in internal_token gateway_secret_key postgres_password; do
  [ -s "$dir/$name" ] && continue
  (umask 077; openssl rand -hex 32 > "$dir/$name")
  echo "made $dir/$name"
done
