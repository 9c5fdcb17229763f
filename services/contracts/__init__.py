"""Contracts service: contract annex, expected annual fee and portal credentials."""
