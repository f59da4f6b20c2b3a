"""Partner-account registration per region and the public keys the sandbox "downloads"."""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WELL_KNOWN = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
_P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def public_key_hex(pem: str) -> str:
    """The uncompressed EC point (hex, ``04…``) of a PEM prime256v1 public key.

    Raises ``ValueError`` when ``pem`` is not a SubjectPublicKeyInfo for prime256v1.
    """
    lines = [ln.strip() for ln in pem.strip().splitlines()]
    if (
        not lines
        or lines[0] != "-----BEGIN PUBLIC KEY-----"
        or lines[-1] != ("-----END PUBLIC KEY-----")
    ):
        raise ValueError("not a PEM public key")
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error as exc:
        raise ValueError("PEM body is not base64") from exc
    if len(der) != len(_P256_SPKI_PREFIX) + 65 or not der.startswith(_P256_SPKI_PREFIX):
        raise ValueError("not an uncompressed EC prime256v1 (secp256r1) public key")
    point = der[len(_P256_SPKI_PREFIX) :]
    if point[0] != 4:
        raise ValueError("not an uncompressed EC point")
    return point.hex()


def root_domain(domain: str) -> str:
    """The last two labels of a host name."""
    labels = [p for p in domain.lower().strip(".").split(".") if p]
    return ".".join(labels[-2:])


@dataclass
class Registration:
    """A partner account registered in one region."""

    region: str
    domain: str
    public_key: str | None
    account_id: str
    created_at: str


class PartnerRegistry:
    """Registrations per region and keys "hosted" at ``https://<domain>/.well-known/…``."""

    def __init__(self, allowed_domain: str, public_key_file: Path | None) -> None:
        self.allowed_domain = allowed_domain
        self.public_key_file = public_key_file
        self._registrations: dict[str, Registration] = {}
        self._hosted: dict[str, str] = {}
        self._lock = threading.Lock()

    def host_key(self, domain: str, pem: str) -> None:
        """Serve ``pem`` as the domain's well-known public key."""
        with self._lock:
            self._hosted[domain.lower()] = pem

    def fetch_key(self, domain: str) -> str | None:
        """The PEM Tesla would download for ``domain`` (None when nothing is served)."""
        with self._lock:
            hosted = self._hosted.get(domain.lower())
        if hosted is not None:
            return hosted
        if self.public_key_file is not None and self.public_key_file.is_file():
            return self.public_key_file.read_text(encoding="ascii", errors="replace")
        return None

    def domain_allowed(self, domain: str) -> bool:
        """Whether ``domain`` has the root domain of the app's allowed origin."""
        return bool(domain) and root_domain(domain) == root_domain(self.allowed_domain)

    def register(self, region: str, domain: str, public_key: str | None, now: str) -> Registration:
        """Record (or replace) the region's registration."""
        with self._lock:
            registration = Registration(region, domain, public_key, str(uuid.uuid4()), now)
            self._registrations[region] = registration
            return registration

    def unregister(self, region: str) -> bool:
        """Forget a region's registration (as when registrations vanish)."""
        with self._lock:
            return self._registrations.pop(region, None) is not None

    def get(self, region: str) -> Registration | None:
        """The region's registration."""
        with self._lock:
            return self._registrations.get(region)

    def summary(self) -> dict[str, Any]:
        """State as JSON."""
        with self._lock:
            return {
                "allowed_domain": self.allowed_domain,
                "registrations": {k: asdict(v) for k, v in self._registrations.items()},
                "hosted_key_domains": sorted(self._hosted),
                "public_key_file": str(self.public_key_file) if self.public_key_file else None,
            }
