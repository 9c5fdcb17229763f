"""Each service's internal API, declared once: enums, argument and response schemas used by the service and the gateway.

The gateway validates the public requests with these schemas and documents its answers (OpenAPI) with the response
schemas; the services take their enums, constants and period checks from here (tickets validates its query string
with the same schema).
"""
