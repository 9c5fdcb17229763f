"""Marshmallow schemas of the public API: they validate requests and generate the OpenAPI document."""
