"""Each service's internal API, declared once: enums, argument and response schemas used by the service and the gateway.

The service validates its query strings with these schemas; the gateway validates the public requests with the same
ones and documents its answers (OpenAPI) with the response schemas, which the services' answers must satisfy
(`tests/integration/test_api_shapes.py`).
"""
