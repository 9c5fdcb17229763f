"""The customer web portal: static HTML, CSS and JavaScript served at `/`, calling the public API."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory

FOLDER = Path(__file__).parent
ASSETS = {"portal.css", "portal.js", "texts.js", "documents.js", "actions.js", "calls.js", "password.js"}
# The gateway's default `default-src 'none'` stays on /api; the portal's pages need their own files.
PORTAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

blueprint = Blueprint("portal", __name__)


@blueprint.get("/")
def index() -> Response:
    """The portal's single page."""
    return send_from_directory(FOLDER, "index.html", max_age=0)


@blueprint.get("/vendor.json")
def vendor() -> dict[str, str]:
    """The vendor's contact details for the portal's footer and annex (configuration)."""
    settings = current_app.config["VENDOR"]
    return {key: str(settings[key]) for key in ("name", "phone", "hours", "report_to")}


@blueprint.get("/<name>")
def asset(name: str) -> Response:
    """The portal's stylesheet and script (revalidated, so a new release is picked up at once)."""
    if name not in ASSETS:
        abort(404)
    return send_from_directory(FOLDER, name, max_age=0)


@blueprint.after_app_request
def portal_policy(response: Response) -> Response:
    """Let the portal's pages load their own script, style and API calls; nothing else changes.

    Registered as an app-wide hook before the gateway's header guard so that it runs after it
    (Flask runs app hooks in reverse order) and its policy is the one sent.
    """
    if request.blueprint == "portal":
        response.headers["Content-Security-Policy"] = PORTAL_CSP
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
