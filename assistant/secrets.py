"""The editors' password is kept only as a salted scrypt hash, and compared in constant time.

A plain ``LOTSE_EDITOR_TOKEN`` is hashed when the app starts; ``LOTSE_EDITOR_TOKEN_FILE`` may instead hold the
hash that ``lotse token-hash`` prints, so the server never holds the password at all. Either way a copy of the
process environment or memory dump no longer hands over the password (the 2026-12 probe read
``/proc/self/environ`` through a gradio file route; see docs/production.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os

# scrypt cost: about 40 ms and 16 MiB per attempt on the reference machine; logins are rate-limited to 10 per
# minute and client, so this slows offline guessing of a leaked hash without slowing the login.
_N, _R, _P = 2**14, 8, 1


def hash_token(token: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>`` of ``token``."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """The parts of a stored hash, or None when it is malformed."""
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, digest = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        return None
    if n < 2**10 or n > 2**20 or n & (n - 1) or not (1 <= r <= 32 and 1 <= p <= 16) or len(salt) < 8 or not digest:
        return None
    return n, r, p, salt, digest


def stored_hash(secret: str) -> str:
    """The hash to keep for a configured secret: itself when it already is one, else a fresh hash."""
    return secret if secret.startswith("scrypt$") else hash_token(secret)


def verify(candidate: str, stored: str) -> bool:
    """Whether ``candidate`` is the password behind ``stored`` (constant time in the comparison)."""
    parts = parse_hash(stored)
    if parts is None:
        return False
    n, r, p, salt, digest = parts
    try:
        got = hashlib.scrypt(candidate.encode(), salt=salt, n=n, r=r, p=p, dklen=len(digest), maxmem=64 * 2**20)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, digest)
