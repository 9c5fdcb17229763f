"""Common runtime of the customer-portal services: events, projector, web helpers."""
