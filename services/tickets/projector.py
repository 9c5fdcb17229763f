"""`python -m services.tickets.projector`: project the tickets topics into the read model."""

from __future__ import annotations

import sys

from services.tickets import projection
from shared.service import projector_main


def main(argv: list[str] | None = None) -> int:
    """Run the projector (see --help)."""
    return projector_main("tickets", "services.tickets", projection, argv)


if __name__ == "__main__":
    sys.exit(main())
