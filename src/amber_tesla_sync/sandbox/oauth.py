"""Tesla's OAuth 2.0 server: the authorize page (:mod:`.oauth_authorize`) and the token endpoint
(:mod:`.oauth_tokens`) over one state, and the resource-server side that checks bearer tokens.

Pure bookkeeping without HTTP; every public method holds one lock, so concurrent refreshes see a
consistent chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from amber_tesla_sync.sandbox import jwt_tokens
from amber_tesla_sync.sandbox.oauth_authorize import AuthorizePage
from amber_tesla_sync.sandbox.oauth_state import AccessGrant
from amber_tesla_sync.sandbox.oauth_tokens import REFRESH_GRACE, REFRESH_LIFETIME, TokenIssuer


@dataclass(frozen=True)
class AccessCheck:
    """Result of looking up a bearer token."""

    status: Literal["ok", "unknown", "expired"]
    grant: AccessGrant | None = None


class OAuthServer(AuthorizePage, TokenIssuer):
    """Codes, access tokens and refresh-token chains of one Tesla user and one application."""

    def check(self, token: str) -> AccessCheck:
        """Look up a bearer token presented to the Fleet API."""
        claims = jwt_tokens.decode(token, self._key)
        with self._lock:
            grant = self._access.get(str(claims.get("jti"))) if claims else None
            if grant is None:
                return AccessCheck("unknown")
            if grant.revoked or self._clock() >= grant.expires_at:
                return AccessCheck("expired", grant)
            return AccessCheck("ok", grant)

    def expire_access_tokens(self) -> int:
        """Make every issued access token expired; returns how many were live."""
        with self._lock:
            now = self._clock()
            live = [g for g in self._access.values() if not g.revoked and now < g.expires_at]
            for grant in live:
                grant.revoked = True
            return len(live)

    def revoke_refresh_tokens(self) -> int:
        """Invalidate every refresh-token chain (as a password reset does)."""
        with self._lock:
            live = [c for c in self._chains if not c.revoked]
            for chain in live:
                chain.revoked = True
            return len(live)

    def valid_refresh_tokens(self) -> list[str]:
        """Refresh tokens that would be accepted now (for tests)."""
        with self._lock:
            now = self._clock()
            valid: list[str] = []
            for chain in self._chains:
                if chain.revoked:
                    continue
                candidates = [chain.current]
                if (
                    not self.settings.strict_refresh
                    and chain.last_used is not None
                    and chain.last_used_at is not None
                    and now < chain.last_used_at + REFRESH_GRACE
                ):
                    candidates.append(chain.last_used)
                valid.extend(t for t in candidates if now < self._refresh[t][1] + REFRESH_LIFETIME)
            return valid

    def summary(self) -> dict[str, Any]:
        """Counts and fingerprints (never raw tokens) for the state dump."""
        valid = self.valid_refresh_tokens()
        with self._lock:
            now = self._clock()
            live = [g for g in self._access.values() if not g.revoked and now < g.expires_at]
            return {
                "expires_in": self.settings.expires_in,
                "require_pkce": self.settings.require_pkce,
                "declined_scopes": sorted(self.settings.declined_scopes),
                "deny_consent": self.settings.deny_consent,
                "strict_refresh": self.settings.strict_refresh,
                "access_tokens_issued": len(self._access),
                "access_tokens_live": len(live),
                "refresh_chains": len(self._chains),
                "refresh_chains_live": sum(1 for c in self._chains if not c.revoked),
                "valid_refresh_token_fingerprints": [jwt_tokens.fingerprint(t) for t in valid],
            }
