"""Koha, the library system of the town's médiathèques: does the person hold a card?

Settings only at import time (pydantic); the adapter, which needs httpx, is
imported when a backend is built (see backends.plugin).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from backends.plugin import Plugin
from counter.backend.settings import BackendSettings


class KohaSettings(BackendSettings):
    kind: Literal["koha"]
    # The Koha API user (HTTP Basic); its password is the keyring secret.
    username: str = "counter"
    # The Koha library (branch code, Koha's library_id) the cards made at the
    # counter belong to. Without it, Koha's only library; with several, it must be set.
    library_id: str | None = Field(default=None, pattern=r"^\S{1,10}$")


plugin = Plugin(
    kind="koha",
    label="Koha (médiathèque)",
    Settings=KohaSettings,
    adapter="backends.koha.adapter:KohaBackend",
)
