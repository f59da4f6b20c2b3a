"""Deterministic pseudo-random numbers keyed by a seed and a tuple of parts.

Every value is a pure function of its key, so the sandbox produces the same prices for the same
seed and time no matter in which order (or how often) they are asked for.
"""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist

_UNIT = 1.0 / float(1 << 64)
_NORMAL = NormalDist()


def key_hash(seed: int, *parts: object) -> int:
    """A 64-bit integer hash of ``seed`` and ``parts``."""
    text = "|".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def uniform(seed: int, *parts: object) -> float:
    """A number in [0, 1) determined by the key."""
    return key_hash(seed, *parts) * _UNIT


def normal(seed: int, *parts: object) -> float:
    """A standard-normal number determined by the key."""
    u = min(max(uniform(seed, *parts), 1e-12), 1.0 - 1e-12)
    return _NORMAL.inv_cdf(u)


def smooth(seed: int, x: float, *parts: object) -> float:
    """Value noise: standard-normal knots at integer ``x``, smoothly interpolated between them."""
    i = math.floor(x)
    f = x - i
    a = normal(seed, *parts, i)
    b = normal(seed, *parts, i + 1)
    w = f * f * (3.0 - 2.0 * f)
    # Rescale so the interpolated value keeps roughly unit variance.
    return (a * (1.0 - w) + b * w) / math.sqrt((1.0 - w) ** 2 + w**2)


def drift(seed: int, x: float, t: float, *parts: object) -> float:
    """Value noise over ``x`` that also moves smoothly with time ``t`` (knots at integer ``t``):
    a forecast curve that is revised gradually rather than redrawn."""
    k = math.floor(t)
    f = t - k
    a = smooth(seed, x, *parts, k)
    b = smooth(seed, x, *parts, k + 1)
    w = f * f * (3.0 - 2.0 * f)
    return (a * (1.0 - w) + b * w) / math.sqrt((1.0 - w) ** 2 + w**2)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_like(seed: int, name: str) -> str:
    """A 26-character Crockford base-32 identifier shaped like a ULID (starts with ``01``)."""
    value = int.from_bytes(hashlib.blake2b(f"{seed}|{name}".encode(), digest_size=16).digest())
    chars = []
    for _ in range(24):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "01" + "".join(chars)


def digits(seed: int, name: str, count: int) -> str:
    """``count`` decimal digits determined by the key (first digit never 0)."""
    value = key_hash(seed, "digits", name) * 1_000_003 + key_hash(seed, "digits2", name)
    text = str(value).rjust(count, "7")[-count:]
    return ("4" + text[1:]) if text[0] == "0" else text
