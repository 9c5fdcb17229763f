"""Deterministic demo data: CloudEvents for every topic plus demo logins.

`python -m demo --customers 25 --seed 42 --today YYYY-MM-DD --out DIR` writes DIR/<topic>.jsonl
and DIR/logins.json. The awkward cases sit on fixed customers (see `awkward.FIXED_CASES`):
C1001 contract starting on 29 February, C1002 overpaid, C1003 in arrears (codes withheld),
C1004 settled (codes shown), C1005 quota overrun with its invoice, C1006 portal password,
C1007 call opened at 23:30 UTC, C1008 terminated contract and item changes.
"""

from demo.cli import main
from demo.generator import demo_logins, generate

__all__ = ["demo_logins", "generate", "main"]
