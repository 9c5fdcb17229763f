"""Operators' and internal systems' command lines: publish, admin, dead letters, catch-up."""
