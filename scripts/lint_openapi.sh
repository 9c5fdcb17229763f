#!/usr/bin/env bash
# Lint the public OpenAPI document with spectral (npm @stoplight/spectral-cli, installed into .run/node):
# any warning fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
SPECTRAL_VERSION="6.16.3"
NODE_DIR="$RUN_DIR/node"
installed="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$NODE_DIR/node_modules/@stoplight/spectral-cli/package.json" 2>/dev/null || true)"
if [ "$installed" != "$SPECTRAL_VERSION" ]; then
  command -v npm >/dev/null || die "npm is required for the OpenAPI lint (apt-get install nodejs npm)"
  say "Installing @stoplight/spectral-cli@$SPECTRAL_VERSION into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" "@stoplight/spectral-cli@$SPECTRAL_VERSION" >/dev/null
fi
"$PY" -m gateway.openapi_document "$RUN_DIR/openapi.json"
"$NODE_DIR/node_modules/.bin/spectral" lint --fail-severity=warn --ruleset "$ROOT/.spectral.yaml" "$RUN_DIR/openapi.json"
