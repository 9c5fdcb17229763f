"""Entry point of `python -m demo`."""

from demo.cli import main

main()
