"""Read models in PostgreSQL: connections, the live-schema pointer, following it, plain and shadow rebuilds."""
