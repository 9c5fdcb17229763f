"""The public API gateway: login, token checks, and the five customer queries over the services."""
