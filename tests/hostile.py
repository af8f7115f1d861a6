"""Hostile values, in the town's database and in the agencies' answers, for tests.

``rename`` writes them the way the town's data would hold them (through the ORM,
so the search index follows); ``rewriting_backends`` puts them in what the real
emulated agencies answer: a test-only ASGI wrapper replaces string values of
their JSON bodies.
"""

from __future__ import annotations

import json

import httpx

MARKUP = "[bold]Zoé[/bold]"
OSC52 = "\x1b]52;c;aGk=\x07"  # writes "hi" to the terminal's clipboard
CSI_CLEAR = "\x1b[2J"
BIDI = "\u202e"  # right-to-left override
INVISIBLE = "\u200b\ufeff"  # zero-width space, byte order mark
LONG = "Z" * 10_000


def rename(store, person_id: int, **names) -> None:
    """Change a person's names (birth_name, usage_name, given_names) in the town's database."""
    from counter.store.models import Person

    with store.write() as session:
        person = session.get(Person, person_id)
        for field, value in names.items():
            setattr(person, field, value)
        session.add(person)


def _replace(value, replacements: dict[str, str]):
    if isinstance(value, str):
        return replacements.get(value, value)
    if isinstance(value, list):
        return [_replace(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, replacements) for k, v in value.items()}
    return value


class RewritingApp:
    """An emulator whose JSON answers have some string values replaced."""

    def __init__(self, app, replacements: dict[str, str]) -> None:
        self.app = app
        self.replacements = replacements

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, chunks = None, []

        async def capture(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                body = json.dumps(_replace(json.loads(body), self.replacements)).encode()
            except ValueError:
                pass  # not JSON: as it was
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def rewriting_backends(replacements: dict[str, dict[str, str]]) -> list:
    """The training agencies, each of ``replacements`` answering with its values replaced."""
    from counter import registry
    from counter.backend import BackendContext
    from counter.config import TRAINING_BACKENDS
    from fixtures.emulators.plugin import EmulatorContext, emulated_transport
    from fixtures.emulators.town_data import town_data

    backends = []
    for name, raw in TRAINING_BACKENDS.items():
        plugin = registry.load(raw["kind"])
        if name in replacements:
            emulator = registry.load(raw["kind"], registry.EMULATORS)
            app = RewritingApp(emulator.create_app(EmulatorContext(town=town_data())), replacements[name])
            transport = httpx.ASGITransport(app=app)
        else:
            transport = emulated_transport(raw["kind"])
        context = BackendContext(name=name, settings=plugin.Settings.model_validate(dict(raw)), secret=None,
                                 transport=transport, training=True)
        backends.append(plugin.create(context))
    return backends
