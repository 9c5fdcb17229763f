"""Gateway session tokens: issue, verify, expiry, tampering, wrong key."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from gateway.auth import VERIFIED, Session, VerifiedTokens, issue_token, verify_token
from shared.web.problems import ProblemError

SECRET = "unit-test-secret-0123456789-abcdefghij"
OTHER_SECRET = "another-secret-0123456789-abcdefghijkl"


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _rejected(token: str, secret: str = SECRET) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        verify_token(secret, token)
    return caught.value


def test_issued_token_verifies_to_its_customer_and_serial() -> None:
    token, _ = issue_token(SECRET, "C/1001", "SN-42", ttl_minutes=30)
    assert verify_token(SECRET, token) == Session(customer_code="C/1001", serial_number="SN-42")


def test_token_carries_the_claims_and_expires_after_the_ttl() -> None:
    now = datetime(2026, 3, 1, 10, 0, 0, 500_000, tzinfo=UTC)
    token, expires_at = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30, now=now)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert expires_at == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert claims["sub"] == "C1001" and claims["serial"] == "SN-42"
    # iat keeps its fraction: a password change ends exactly the sessions issued before it
    assert claims["iat"] == now.timestamp() == 1772359200.5
    assert claims["exp"] == int(expires_at.timestamp())
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_every_token_has_its_own_id() -> None:
    first, _ = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30)
    second, _ = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30)
    ids = {jwt.decode(t, SECRET, algorithms=["HS256"])["jti"] for t in (first, second)}
    assert len(ids) == 2


def test_expired_token_is_a_401() -> None:
    token, expires_at = issue_token(
        SECRET, "C1001", "SN-42", ttl_minutes=30, now=datetime.now(UTC) - timedelta(minutes=31)
    )
    assert expires_at < datetime.now(UTC)
    problem = _rejected(token)
    assert (problem.status, problem.title, problem.detail) == (401, "Unauthorized", "The token has expired.")
    assert problem.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_with_another_customer_swapped_in_is_a_401() -> None:
    token, _ = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = ".".join([header, _segment({**claims, "sub": "C9999"}), signature])
    problem = _rejected(forged)
    assert (problem.status, problem.detail) == (401, "The token is not valid.")


def test_token_with_a_damaged_signature_is_a_401() -> None:
    token, _ = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30)
    last = token[-1]
    damaged = token[:-1] + ("A" if last != "A" else "B")
    assert _rejected(damaged).status == 401


def test_token_signed_with_another_key_is_a_401() -> None:
    token, _ = issue_token(OTHER_SECRET, "C1001", "SN-42", ttl_minutes=30)
    assert verify_token(OTHER_SECRET, token).customer_code == "C1001"
    assert _rejected(token, SECRET).status == 401


def test_unsigned_token_is_a_401() -> None:
    unsigned = ".".join(
        [
            _segment({"alg": "none", "typ": "JWT"}),
            _segment({"sub": "C1001", "serial": "SN-42", "iat": 1, "exp": 4102444800, "jti": "x"}),
            "",
        ]
    )
    assert _rejected(unsigned).status == 401


def test_token_without_a_serial_number_is_a_401() -> None:
    claims = {"sub": "C1001", "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5), "jti": "x"}
    assert _rejected(jwt.encode(claims, SECRET, algorithm="HS256")).status == 401


def test_garbage_is_a_401() -> None:
    assert _rejected("not-a-token").status == 401


def test_the_session_knows_when_its_token_was_issued() -> None:
    now = datetime(2026, 3, 1, 10, 0, 0, 250_000, tzinfo=UTC)
    token, _ = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=60 * 24 * 365 * 10, now=now)
    assert verify_token(SECRET, token).issued_at == now.timestamp()


def test_a_verified_token_is_remembered_but_still_expires(monkeypatch) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=10)
    token, expires_at = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30, now=issued)
    decoded: list[str] = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: decoded.append(args[0]) or decode(*args, **kwargs))
    assert verify_token(SECRET, token).customer_code == "C1001"  # verified and remembered
    assert verify_token(SECRET, token, now=expires_at.timestamp() - 0.5).serial_number == "SN-42"
    assert decoded == [token]  # the second time from memory
    problem = _rejected_at(token, expires_at.timestamp())
    assert problem.status == 401 and "expired" in problem.detail
    assert VERIFIED.get((SECRET, token)) is None  # forgotten once expired


def test_a_remembered_token_is_valid_only_with_the_key_it_was_verified_with() -> None:
    token, _ = issue_token(SECRET, "C1001", "SN-42", ttl_minutes=30)
    assert verify_token(SECRET, token).customer_code == "C1001"
    assert _rejected(token, OTHER_SECRET).status == 401


def test_the_remembered_tokens_are_bounded_oldest_out() -> None:
    tokens = VerifiedTokens(size=2)
    sessions = [(Session(f"C{i}", "SN"), 1e12) for i in range(3)]
    for i, value in enumerate(sessions):
        tokens.put((SECRET, f"t{i}"), value)
    assert [tokens.get((SECRET, f"t{i}")) for i in range(3)] == [None, sessions[1], sessions[2]]


def _rejected_at(token: str, now: float) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        verify_token(SECRET, token, now=now)
    return caught.value
