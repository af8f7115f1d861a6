"""The town's own family system (schools, crèches), behind counter's contract v1
(docs/agency-protocol.md). Settings only at import time; the adapter, which
needs httpx, is imported when a backend is built (see backends.plugin).
"""

from __future__ import annotations

from typing import Literal

from backends.plugin import Plugin
from counter.backend.settings import BackendSettings


class CitySettings(BackendSettings):
    kind: Literal["city"]


plugin = Plugin(
    kind="city",
    label="Système famille de la mairie",
    Settings=CitySettings,
    adapter="backends.city.adapter:CityBackend",
)
