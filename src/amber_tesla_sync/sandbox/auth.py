"""Tesla's authorization server endpoints (``/auth/oauth2/v3/...``) over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from amber_tesla_sync.sandbox.oauth import OAuthServer
from amber_tesla_sync.sandbox.wire import (
    Request,
    Response,
    html_response,
    json_response,
    redirect,
)

AUTHORIZE = "/oauth2/v3/authorize"
TOKEN = "/oauth2/v3/token"
DISCOVERY = "/oauth2/v3/thirdparty/.well-known/openid-configuration"


class AuthService:
    """Routes ``/auth/...`` requests."""

    def __init__(self, oauth: OAuthServer, base_url: Callable[[], str]) -> None:
        self._oauth = oauth
        self._base_url = base_url

    def handle(self, request: Request, path: str) -> Response:
        """Answer one request; ``path`` is relative to ``/auth``."""
        path = path.rstrip("/")
        if path == AUTHORIZE and request.method == "GET":
            params = {k: v[0] for k, v in request.query.items() if v}
            outcome = self._oauth.authorize(params)
            if outcome.location is not None:
                response = redirect(outcome.location)
            else:
                response = html_response(outcome.status, outcome.title, outcome.message)
            response.category = "authorize"
            return response
        if path == TOKEN and request.method == "POST":
            content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
            if content_type != "application/x-www-form-urlencoded":
                response = json_response(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "use application/x-www-form-urlencoded",
                    },
                )
            else:
                token = self._oauth.token(request.form())
                response = json_response(token.status, token.body, [("Cache-Control", "no-store")])
            response.category = "token"
            response.token_kind = "client"
            return response
        if path == DISCOVERY and request.method == "GET":
            base = self._base_url()
            return json_response(
                200,
                {
                    "issuer": self._oauth.issuer,
                    "authorization_endpoint": f"{base}{AUTHORIZE}",
                    "token_endpoint": f"{base}{TOKEN}",
                    "response_types_supported": ["code"],
                    "grant_types_supported": [
                        "authorization_code",
                        "refresh_token",
                        "client_credentials",
                    ],
                    "code_challenge_methods_supported": ["S256"],
                    "scopes_supported": sorted(self._oauth.client.allowed_scopes),
                },
            )
        return json_response(404, {"error": "not_found", "error_description": path})
