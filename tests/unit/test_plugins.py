"""Backends are plugins: one from another distribution is found like the built-ins."""

from __future__ import annotations

import sys
import textwrap

from counter import registry
from counter.backend import BackendContext, Status


def test_the_built_ins_register_through_entry_points():
    assert {"api_particulier", "koha", "city"} <= set(registry.kinds())
    assert {"api_particulier", "koha", "city"} <= set(registry.kinds(registry.EMULATORS))


def test_a_backend_from_another_distribution_is_picked_up(tmp_path, monkeypatch):
    # A minimal installed distribution: its metadata (entry points) and its module.
    dist = tmp_path / "counter_weather_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: counter-weather-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[counter.backends]\nweather = counter_weather_backend:plugin\n")
    (tmp_path / "counter_weather_backend.py").write_text(textwrap.dedent('''
        from typing import Literal
        from counter.backend import Health, Provenance, SectionAnswer, SectionSpec, Status
        from counter.backend.settings import BackendSettings
        from datetime import datetime, UTC

        class Settings(BackendSettings):
            kind: Literal["weather"]
            city: str

        class Weather:
            kind, label, timeout = "weather", "Météo", 1.0
            def __init__(self, context):
                self.name = context.name
            def sections(self):
                return (SectionSpec("sky", "Ciel"),)
            async def fetch(self, section, subject, *, refresh=False):
                return SectionAnswer(Provenance(self.name, section, "Ciel", Status.OK, datetime.now(UTC)))
            async def health(self):
                return Health(self.name, Status.OK)
            async def aclose(self):
                pass

        class Plugin:
            kind, label, needs_secret, Settings = "weather", "Météo", False, Settings
            def create(self, context):
                return Weather(context)

        plugin = Plugin()
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    try:
        assert "weather" in registry.kinds()
        plugin = registry.load("weather")
        settings = plugin.Settings.model_validate({"kind": "weather", "city": "Orléans", "base_url": "https://x.fr"})
        backend = plugin.create(BackendContext("meteo", settings, None))
        import asyncio

        assert asyncio.run(backend.health()).status is Status.OK
    finally:
        sys.modules.pop("counter_weather_backend", None)
        monkeypatch.undo()
        registry.refresh()
    assert "weather" not in registry.kinds()
