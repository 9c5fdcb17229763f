"""Entry point of `python -m shared.demo`."""

from shared.demo.cli import main

main()
