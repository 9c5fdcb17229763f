"""Tickets service: support_call.* events -> the support event list query."""
