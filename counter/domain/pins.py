"""Unlock PINs: 4 to 8 digits, kept as a salted scrypt hash, compared in constant time.

Stored as ``scrypt$n$r$p$salt$hash`` (salt and hash in hex), so the cost can
grow later without invalidating the PINs already set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

N, R, P = 2**14, 8, 1
SALT_BYTES = 16
MIN_DIGITS, MAX_DIGITS = 4, 8


@dataclass(frozen=True, slots=True)
class Unlock:
    ok: bool
    message: str = ""  # French, for the lock screen
    retry_in: int = 0  # seconds before the next try is accepted


class PinError(ValueError):
    """A PIN that breaks the rule; the message is French, for the agent."""


def check_rule(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS):
        raise PinError(f"Le code doit compter de {MIN_DIGITS} à {MAX_DIGITS} chiffres.")


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_pin(pin: str) -> str:
    check_rule(pin)
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${N}${R}${P}${salt.hex()}${_derive(pin, salt, N, R, P).hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = _derive(pin, bytes.fromhex(salt), int(n), int(r), int(p)) if pin.isascii() else b""
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(actual, expected)
