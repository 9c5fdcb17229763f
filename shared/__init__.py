"""The project's common package: events, the projection runtime, read models, web helpers, CLIs, settings.

events/      CloudEvents envelope, topics, the catalog's schemas, compiled loaders, the publisher
projection/  the projector runtime: protocol, runner, consumer, batch, bookkeeping, dead letters, metrics, lag
readmodel/   connections, the live-schema pointer, following it, plain and shadow rebuilds
web/         the internal APIs' Flask app factory, problems, health, logging and metrics
api/         each service's internal API, declared once for the service and the gateway
cli/         publish, admin, dead letters, catch-up
config.py    every setting from the environment; retry.py the one retry helper; timeutil.py Budapest dates
"""
