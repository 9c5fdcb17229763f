"""The public OpenAPI document, built without a running gateway: `python -m gateway.openapi_document [out.json]`.

The same routes and schemas the gateway serves at /api/v1/openapi.json (`make lint` lints it with spectral).
"""

from __future__ import annotations

import json
import sys

from flask import Flask


def document() -> dict:
    """The gateway's OpenAPI document, generated from its routes and schemas."""
    from gateway import routes
    from gateway.openapi import build_api

    api = build_api(Flask("openapi"))
    routes.register(api)
    return api.spec.to_dict()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = json.dumps(document(), indent=2, ensure_ascii=False) + "\n"
    if args and args[0] != "-":
        with open(args[0], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
