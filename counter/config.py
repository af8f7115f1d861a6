"""Configuration: a TOML file selects production; no file means training.

The file is validated strictly — an unknown key, a wrong type or a bad URL is
refused with a message naming the key and the file. Secrets never go here:
they live in the system keyring.

Example (see docs/configuration.md)::

    data_dir = "/var/lib/counter"          # optional; COUNTER_HOME overrides it

    [town]
    name = "Bellerive-sur-Loire"

    [database]
    url = "postgresql://counter@db.mairie.local/counter"

    [ui]
    theme = "auto"                         # auto | console | textual-dark | textual-light
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pydantic loads only when a configuration file is read
    from counter.settings import Settings


class ConfigError(Exception):
    """The configuration cannot be used. Exit status 2, message for administrators."""

    exit_status = 2


MAX_BYTES = 256 * 1024  # a counter's configuration is a few KiB

# Training without a configuration file: every built-in agency, emulated in-process.
TRAINING_BACKENDS: Mapping[str, Mapping[str, Any]] = {
    # The fictional town's SIRET (the recipient API Particulier requires).
    "api_particulier": {"kind": "api_particulier", "recipient": "21459999900015"},
    # The fictional town's central médiathèque gets the cards made at the counter.
    "koha": {"kind": "koha", "library_id": "BEL-CTR"},
    "city": {"kind": "city"},
}


def describe_error(error: dict) -> str:
    """One pydantic validation error in words naming the key (the scenario and replay loaders share it)."""
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{key}'"
    if kind == "missing":
        return f"missing key '{key}'"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"key '{key}': must be one of {expected}"
    if kind.endswith("_type") or kind == "model_type":
        return f"key '{key}': wrong type ({error['msg'].lower()})"
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:
        return message
    return f"key '{key}': {message}"


def validate_backends(settings: Settings, source: str = "default settings") -> dict:
    """The [backends.*] tables validated by their plugins; ConfigError otherwise."""
    backends, problems = _backend_errors(settings)
    if problems:
        raise ConfigError(f"{source}: {'; '.join(problems)}")
    return backends


def _backend_errors(settings: Settings) -> tuple[dict, list[str]]:
    """Validate each [backends.NAME] against its plugin's own settings model."""
    from pydantic import ValidationError

    from counter import registry

    validated, problems = {}, []
    for name, raw in settings.backends.items():
        kind = raw.get("kind")
        if not isinstance(kind, str):
            problems.append(f"missing key 'backends.{name}.kind'")
            continue
        try:
            plugin = registry.load(kind)
        except registry.PluginError as exc:
            problems.append(f"key 'backends.{name}.kind': {exc}")
            continue
        try:
            validated[name] = plugin.Settings.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                error = dict(error, loc=("backends", name, *error["loc"]))
                problems.append(describe_error(error))
            continue
        if settings.mode == "production" and validated[name].base_url is None:
            problems.append(f"missing key 'backends.{name}.base_url' (only training has in-process emulators)")
        base_url = validated[name].base_url
        if settings.mode == "training" and base_url is not None:
            from counter.store.dataset import training_may_use

            if not training_may_use(base_url):
                problems.append(f"key 'backends.{name}.base_url': training mode only talks to the emulators "
                                "on loopback (127.0.0.1, localhost, ::1) or an agency's staging platform, "
                                "never to a production agency")
    known = knob_targets(settings)
    for name in settings.emulators:
        if name not in known:
            where = "backend" if settings.backends or settings.mode == "production" else "training backend"
            problems.append(f"key 'emulators.{name}': no {where} of that name "
                            f"(known: {', '.join(known) or 'none'})")
    return validated, problems


def knob_targets(settings: Settings) -> list[str]:
    """The backends [emulators.NAME] may name: those the file declares; a training
    file that declares none runs the training defaults, so it names those."""
    if settings.backends or settings.mode == "production":
        return list(settings.backends)
    return list(TRAINING_BACKENDS)


def load_settings(path: Path) -> Settings:
    from counter.files import UnreadableFile, read_toml

    try:
        data = read_toml(path, "the configuration file", MAX_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(str(exc)) from None
    from pydantic import ValidationError

    from counter.settings import Settings

    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(describe_error(e) for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    validate_backends(settings, str(path))  # report every problem of the file now
    return settings
