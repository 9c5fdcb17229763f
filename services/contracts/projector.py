"""`python -m services.contracts.projector`: project the contracts topics into the read model (see --help)."""

from __future__ import annotations

import sys

from services.contracts.projection import PROJECTION
from shared.service import projector_main

if __name__ == "__main__":
    sys.exit(projector_main(PROJECTION))
