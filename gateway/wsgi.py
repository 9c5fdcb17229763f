"""WSGI entry point: `gunicorn gateway.wsgi:app` (or `gateway.app:create_app()`)."""

from gateway.app import create_app

app = create_app()
