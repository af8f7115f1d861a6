"""The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale").

15 characters: sex (1), birth year (2), month (2), département (2, or 2A/2B for
Corsica), commune (3), order (3), key (2). Key = 97 − (N mod 97) where N is the
13-character body read as a number, with 2A → 19 and 2B → 18.
"""

from __future__ import annotations

import enum
import re

_SHAPE = re.compile(r"^[1-478]\d{4}(?:\d{2}|2A|2B)\d{6}(?:\d{2})?$")


class NirCheck(enum.Enum):
    VALID = "valid"
    BAD_KEY = "bad_key"
    NO_KEY = "no_key"  # a 13-character body typed without its key
    MALFORMED = "malformed"


def compact(text: str) -> str:
    """Remove the spaces and dots agents type between the groups; upper-case."""
    return re.sub(r"[\s.]", "", text).upper()


def looks_like_nir(text: str) -> bool:
    """True when the text has the shape of a NIR body or full NIR (13 or 15 characters)."""
    return bool(_SHAPE.match(compact(text)))


def _numeric_body(body: str) -> int:
    return int(body.replace("2A", "19").replace("2B", "18"))


def nir_key(body: str) -> int:
    """The control key of a 13-character body."""
    return 97 - _numeric_body(body) % 97


def check_nir(text: str) -> NirCheck:
    nir = compact(text)
    if not _SHAPE.match(nir):
        return NirCheck.MALFORMED
    if len(nir) == 13:
        return NirCheck.NO_KEY
    return NirCheck.VALID if nir_key(nir[:13]) == int(nir[13:]) else NirCheck.BAD_KEY


def with_key(body: str) -> str:
    """The full 15-character NIR for a 13-character body."""
    return f"{body}{nir_key(body):02d}"


def format_nir(nir: str) -> str:
    """Groups as printed on the carte Vitale: ``2 55 08 14 168 025 38``."""
    n = compact(nir)
    groups = (n[0:1], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13], n[13:15])
    return " ".join(g for g in groups if g)


def mask_nir(nir: str) -> str:
    """Only what identifies the line: sex, birth year and month."""
    n = compact(nir)
    return f"{n[0:1]} {n[1:3]} {n[3:5]} •• ••• ••• ••"
