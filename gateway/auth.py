"""Session tokens: HS256 JWTs bound to one customer and serial number, checked on every query."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app, g, request

from shared.bounded import Bounded
from shared.web.problems import ProblemError

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "serial", "exp", "iat", "jti"]


@dataclass(frozen=True)
class Session:
    """Who a valid token speaks for."""

    customer_code: str
    serial_number: str
    issued_at: float = field(default=0.0, compare=False)  # POSIX seconds, with fractions


def issue_token(
    secret: str, customer_code: str, serial_number: str, ttl_minutes: int, now: datetime | None = None
) -> tuple[str, datetime]:
    """A signed token for the customer and serial number, and when it expires."""
    precise = now or datetime.now(UTC)
    issued_at = precise.replace(microsecond=0)
    expires_at = issued_at + timedelta(minutes=ttl_minutes)
    claims = {
        "sub": customer_code,
        "serial": serial_number,
        # A NumericDate may carry fractions: a password change must end the sessions issued just before it.
        "iat": precise.timestamp(),
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def verify_token(secret: str, token: str, now: float | None = None) -> Session:
    """The session of a valid, unexpired token; anything else is a 401 problem.

    A token verified before is not verified again (its signature cannot change); only its expiry is checked.
    """
    key = (secret, token)
    known = VERIFIED.get(key)
    if known is None:
        session, expires = _verify(secret, token)
        VERIFIED.put(key, (session, expires))
    else:
        session, expires = known
    if expires <= (time.time() if now is None else now):
        VERIFIED.drop(key)
        raise unauthorized("The token has expired.")
    return session


def _verify(secret: str, token: str) -> tuple[Session, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise unauthorized("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise unauthorized("The token is not valid.") from None
    if not isinstance(claims["serial"], str) or not claims["sub"]:
        raise unauthorized("The token is not valid.")
    session = Session(customer_code=claims["sub"], serial_number=claims["serial"], issued_at=float(claims["iat"]))
    return session, float(claims["exp"])


class VerifiedTokens(Bounded[tuple[str, str], tuple[Session, float]]):
    """Tokens whose signature and claims were checked, with their sessions and expiry (at most `size`, oldest out)."""

    def __init__(self, size: int = 10_000) -> None:
        super().__init__(size)


VERIFIED = VerifiedTokens()


def unauthorized(detail: str, token_given: bool = True) -> ProblemError:
    """The 401 problem of a query without a usable token."""
    challenge = 'Bearer error="invalid_token"' if token_given else "Bearer"
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def require_session() -> None:
    """Before a query: a valid `Authorization: Bearer` token, its customer and serial put in flask.g."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("An `Authorization: Bearer <token>` header is required.", token_given=False)
    session = verify_token(current_app.config["GATEWAY_SECRET_KEY"], token.strip())
    if current_app.extensions["gateway"].password_changes.ended(session.customer_code, session.issued_at):
        raise unauthorized("The session ended when the portal password changed; please log in again.")
    g.customer_code, g.serial_number = session.customer_code, session.serial_number
