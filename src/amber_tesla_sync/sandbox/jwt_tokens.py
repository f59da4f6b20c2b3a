"""Minimal HS256 JSON Web Tokens and PKCE helpers (stdlib only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url` (raises ``ValueError`` on bad input)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(claims: dict[str, Any], key: bytes) -> str:
    """A signed HS256 JWT carrying ``claims``."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def decode(token: str, key: bytes) -> dict[str, Any] | None:
    """The claims of a JWT signed with ``key``; None if malformed or the signature is wrong."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header, payload, signature = parts
    expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, b64url_decode(signature)):
            return None
        claims = json.loads(b64url_decode(payload))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def valid_verifier(verifier: str) -> bool:
    """Whether ``verifier`` has RFC 7636's form (43-128 unreserved characters)."""
    return _VERIFIER.match(verifier) is not None


def fingerprint(secret: str) -> str:
    """A short, non-reversible label for a secret (safe to show in state dumps)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]
