"""The settings every agency backend has, the base of each plugin's own model
(``BackendPlugin.Settings``), validated strictly like the rest of the
configuration (counter.settings reads the file). Loaded only where a
configuration is validated: pydantic stays off the terminal's path.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from counter.domain.text import has_controls


class Strict(BaseModel):
    """The configuration's strict style: an unknown key, a wrong type or a control
    character is an error naming the key (the counter's settings, the plugins',
    the scenarios' and the replays')."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_controls(cls, value):
        # Names, labels and URLs are shown on screens and terminals: an ESC or a
        # bidi override in the file would reach them (TOML escapes allow "\u001b").
        if isinstance(value, str) and has_controls(value):
            raise ValueError("control or invisible characters are not allowed")
        return value


class BackendSettings(Strict):
    """Keys every backend has; plugins subclass it with their own (strictly too)."""

    kind: str
    # No base_url: the emulated agency, in-process (training only).
    base_url: str | None = None
    timeout: float = Field(default=5.0, gt=0, le=120)
    enabled: bool = True
    # At most this many requests a second with this backend's credential (the
    # service alone sends them); none: no limit of our own. Plugins set a default.
    requests_per_second: int | None = Field(default=None, ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError("must be an http:// or https:// URL")
        try:
            parts.port  # noqa: B018 — reading it checks it
        except ValueError:
            raise ValueError("must be an http:// or https:// URL with a port from 1 to 65535") from None
        return value.rstrip("/")
