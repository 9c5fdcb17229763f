"""`python -m shared.cli.publish --topic invoices events.jsonl`: validate and publish catalog events."""

from __future__ import annotations

import sys

from shared.events.publisher import main

if __name__ == "__main__":
    sys.exit(main())
