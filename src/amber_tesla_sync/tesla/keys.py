"""The app's EC key pair (prime256v1) that Tesla uses to verify the partner domain."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from amber_tesla_sync.errors import SecretsError

WELL_KNOWN_PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"


def generate_private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_pem(private_pem: str) -> str:
    try:
        key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    except (ValueError, TypeError) as exc:
        raise SecretsError(
            "the stored private key is damaged", "run `amber-tesla-sync keygen --force`"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SecretsError(
            "the stored private key is not a prime256v1 EC key",
            "run `amber-tesla-sync keygen --force`",
        )
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _point(public: str) -> bytes | None:
    """The uncompressed EC point of a public key given as PEM or as hex (Tesla reports hex)."""
    text = public.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return None
            return key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return bytes.fromhex(text)
    except (ValueError, TypeError):
        return None


def matches(ours_pem: str, reported: str) -> bool:
    """Whether the key Tesla reports (hex point or PEM) is our public key."""
    ours = _point(ours_pem)
    return ours is not None and ours == _point(reported)
