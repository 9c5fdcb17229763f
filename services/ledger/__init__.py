"""Ledger service: invoices, payments, refunds and license codes -> balance query."""
