"""The sandbox's own control API under ``/_sandbox`` (JSON, no authentication, loopback only).

Endpoints (``path`` relative to ``/_sandbox``):

* ``GET /info``: base URLs, credentials, site ids, seed.
* ``GET /state``: clock, energy site (settings, stored tariff, problems), OAuth, faults, counts.
* ``GET /requests``, ``DELETE /requests``: request log and counts; clear them.
* ``GET /clock``; ``POST /clock`` with ``{"now": ISO, "running": false}``,
  ``{"advance_seconds": N}`` or ``{"real_time": true}``.
* ``GET /energy_site``; ``POST /energy_site`` changes settings, ``tariff_content_v2``,
  ``soc_percent``.
* ``GET /tariff``: stored tariff and its ``site_info`` read-back.
* ``GET /tariff_posts``: every ``time_of_use_settings`` POST with its validation problems.
* ``GET /faults``, ``POST /faults`` (one rule or a list, see :class:`faults.Fault`),
  ``DELETE /faults`` or ``DELETE /faults/ID``.
* ``GET /partner``; ``POST /partner`` with
  ``{"region": "na", "registered": bool, "domain"?, "public_key_pem"?}``.
* ``POST /public_keys`` with ``{"domain": D, "pem": PEM}``: the key "hosted" at D;
  ``POST /public_keys/D`` with the PEM file itself as the body does the same
  (``curl --data-binary @public-key.pem``).
* ``GET /tokens``; ``POST /tokens`` with
  ``{"expire_access_tokens": true, "revoke_refresh_tokens": true}``.
* ``GET /switches``; ``POST /switches`` (see :meth:`SandboxApp.set_switches`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from amber_tesla_sync.sandbox.app import SandboxApp
from amber_tesla_sync.sandbox.faults import fault_from_json
from amber_tesla_sync.sandbox.partners import public_key_hex
from amber_tesla_sync.sandbox.tariff_readback import readback
from amber_tesla_sync.sandbox.wire import Request, Response, json_response


class ControlError(Exception):
    """A bad control request (answered with 400)."""


def _object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise ControlError("body is not valid JSON") from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ControlError("now must be an ISO 8601 string")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ControlError(f"cannot parse time {text!r}") from exc
    if when.tzinfo is None:
        raise ControlError("now needs a UTC offset")
    return when


class ControlAPI:
    """Handlers of ``/_sandbox/...``."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def handle(self, request: Request, path: str) -> Response:
        """Answer one control request (``path`` relative to ``/_sandbox``)."""
        try:
            return json_response(200, self._dispatch(request, path.rstrip("/") or "/"))
        except ControlError as exc:
            return json_response(400, {"error": str(exc)})
        except (TypeError, ValueError) as exc:
            return json_response(400, {"error": f"bad value: {exc}"})

    def _dispatch(self, request: Request, path: str) -> Any:
        app = self.app
        method = request.method
        site = app.energy_site
        if (method, path) in (("GET", "/"), ("GET", "/info")):
            return app.info()
        if (method, path) == ("GET", "/state"):
            return app.state()
        if path == "/requests":
            if method == "DELETE":
                app.log.clear()
                return {"cleared": True}
            return {"entries": app.log.entries(), "counts": app.log.counts()}
        if path == "/clock":
            if method == "POST":
                self._clock(_object(request))
            return app.clock.describe()
        if path == "/energy_site":
            if method == "POST":
                unknown = site.update(_object(request), app.now())
                if unknown:
                    raise ControlError(f"unknown settings: {', '.join(unknown)}")
            return site.settings()
        if (method, path) == ("GET", "/tariff"):
            stored = site.current_tariff(app.now())
            return {"stored": stored, "readback": readback(stored)}
        if (method, path) == ("GET", "/tariff_posts"):
            return {"posts": site.tou_posts}
        if path.startswith("/faults"):
            return self._faults(request, path)
        if path == "/partner":
            if method == "POST":
                self._partner(_object(request))
            return app.partners.summary()
        if method == "POST" and path.startswith("/public_keys/"):
            text = request.body.decode("ascii", errors="replace")
            if path == "/public_keys/" or "BEGIN PUBLIC KEY" not in text:
                raise ControlError("post the PEM public key as the body of /public_keys/DOMAIN")
            app.partners.host_key(path[len("/public_keys/") :], text)
            return app.partners.summary()
        if (method, path) == ("POST", "/public_keys"):
            body = _object(request)
            domain, pem = body.get("domain"), body.get("pem")
            if not isinstance(domain, str) or not isinstance(pem, str):
                raise ControlError("domain and pem are required")
            app.partners.host_key(domain, pem)
            return app.partners.summary()
        if path == "/tokens":
            if method == "POST":
                body = _object(request)
                expired = revoked = 0
                if body.get("expire_access_tokens"):
                    expired = app.oauth.expire_access_tokens()
                if body.get("revoke_refresh_tokens"):
                    revoked = app.oauth.revoke_refresh_tokens()
                return {"expired_access_tokens": expired, "revoked_refresh_chains": revoked}
            return app.oauth.summary()
        if path == "/switches":
            if method == "POST":
                unknown = app.set_switches(_object(request))
                if unknown:
                    raise ControlError(f"unknown switches: {', '.join(unknown)}")
            return app.switches()
        raise ControlError(f"no control endpoint {method} /_sandbox{path}")

    def _clock(self, body: dict[str, Any]) -> None:
        clock = self.app.clock
        if body.get("real_time"):
            clock.use_real_time()
        if "now" in body:
            clock.set(_parse_time(body["now"]), running=bool(body.get("running", False)))
        if "advance_seconds" in body:
            clock.advance(float(body["advance_seconds"]))

    def _faults(self, request: Request, path: str) -> Any:
        book = self.app.faults
        if request.method == "DELETE":
            if path == "/faults":
                book.clear()
                return {"faults": []}
            removed = book.remove(int(path.rsplit("/", 1)[-1]))
            return {"removed": removed, "faults": book.list()}
        if request.method == "POST":
            try:
                body = request.json()
            except ValueError as exc:
                raise ControlError("body is not valid JSON") from exc
            items = body if isinstance(body, list) else [body]
            try:
                added = [book.add(fault_from_json(item)).to_json() for item in items]
            except ValueError as exc:
                raise ControlError(str(exc)) from exc
            return {"added": added, "faults": book.list()}
        return {"faults": book.list()}

    def _partner(self, body: dict[str, Any]) -> None:
        app = self.app
        region = str(body.get("region", "na"))
        if not body.get("registered", True):
            app.partners.unregister(region)
            return
        domain = str(body.get("domain", app.config.allowed_domain))
        pem = body.get("public_key_pem")
        key = None
        if isinstance(pem, str):
            try:
                key = public_key_hex(pem)
            except ValueError as exc:
                raise ControlError(str(exc)) from exc
        app.partners.register(region, domain, key, app.now().isoformat())
