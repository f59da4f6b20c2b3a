"""A scripted browser for ``login fleet`` tests: ``BROWSER="<python> fake_browser.py %s"``.

It opens the authorize URL on the sandbox without following the redirect, then opens the
``Location`` it was sent to (the CLI's loopback callback), as a browser whose user approves at once
would. Standard library only, and silent: its output would mix with the CLI's.

``FAKE_BROWSER_MODE`` makes it misbehave:

* ``bad-state`` — the callback gets a forged ``state``;
* ``tamper-code`` — the callback gets a changed authorization ``code``;
* ``bad-pkce`` — the authorize request carries a different ``code_challenge``, so the CLI's
  verifier no longer matches the code it gets back;
* ``no-callback`` — it approves but never opens the callback (the CLI times out).

``FAKE_BROWSER_LOG`` names a file that gets one JSON line per run: the statuses it saw.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import sys
import urllib.parse


def get(url: str) -> tuple[int, str | None, str]:
    """GET ``url`` without following redirects: (status, Location, page text)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"User-Agent": "fake-browser"})
        response = connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("Location"), page
    finally:
        connection.close()


def replace_query(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def main(url: str) -> int:
    mode = os.environ.get("FAKE_BROWSER_MODE", "")
    record: dict[str, object] = {"mode": mode}
    if mode == "bad-pkce":
        other = hashlib.sha256(b"a different verifier, not the one the CLI holds").digest()
        challenge = base64.urlsafe_b64encode(other).rstrip(b"=").decode("ascii")
        url = replace_query(url, code_challenge=challenge)
    status, location, _ = get(url)
    record["authorize_status"] = status
    if location is not None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        record["code"] = query.get("code")
    if location is not None and mode != "no-callback":
        if mode == "bad-state":
            location = replace_query(location, state="forged-state")
        elif mode == "tamper-code":
            code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]
            location = replace_query(location, code=code[:-4] + "0000")
        record["callback_status"], _, page = get(location)
        if record["callback_status"] != 200:  # what the browser shows on a failed login
            record["callback_page"] = page
    log = os.environ.get("FAKE_BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:  # noqa: PTH123 - keep it stdlib-simple
            handle.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
