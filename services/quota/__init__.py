"""Minute-quota service: support years, minute quotas, usage and overrun invoices."""
