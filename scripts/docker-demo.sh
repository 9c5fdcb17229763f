#!/bin/sh
# Loads the demo data set once (docker compose's demo-loader service; /state is a volume).
set -e
state=${DEMO_STATE_DIR:-/state}
if [ -f "$state/loaded" ]; then echo "demo data already loaded"; exit 0; fi
python -m demo --customers "${PORTAL_DEMO_CUSTOMERS:-25}" --out "$state/demo"
for topic in contracts invoices payments support-calls license-codes; do
  python -m shared.cli.publish --topic "$topic" "$state/demo/$topic.jsonl"
done
date -u > "$state/loaded"
